// The kvserver scenario: homeostat's intentionally vulnerable demo server (demo/kvserver.c, built by
// src/demo/target.ts), recorded whole under strace -f (the listening process and every session's fork) while the
// demo's own seeded client workload (src/demo/normalClient.ts) runs batches of sessions against it. Attacks are the
// demo's real exploit (src/demo/exploitClient.ts): `stack-overflow-system`, the format-string leak of libc's address
// then the overflow over a function pointer that runs system("id > proof"); and `format-string-leak`, its first two
// stages only (control flow hijacked to the server's own reply(), which sends memory back: no new kind of call).

import { existsSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { findArgumentIndex, leakQword, runExploit } from "../demo/exploitClient.js";
import { readElf } from "../demo/elf.js";
import { runNormalWorkload } from "../demo/normalClient.js";
import { buildTarget } from "../demo/target.js";
import { HomeostatError } from "../errors.js";
import { homeostatVersion } from "../models/profile.js";
import { proofFile } from "./attackProof.js";
import { between, planAttack, rngFor } from "./planning.js";
import { waitForOutput } from "./readiness.js";
import { startTraced } from "./straceRecorder.js";
import { cleanEnv, missingTools } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingSpec, RecordingTarget, Scenario } from "./types.js";

/** One batch of the demo's client sessions: how many, and the workload's seed. */
export interface KvBatch {
  sessions: number;
  seed: number;
}

export const KVSERVER_ATTACKS = ["stack-overflow-system", "format-string-leak"] as const;

export function planKvBatches(spec: RecordingSpec): RecordingPlan<KvBatch> {
  const rng = rngFor(spec);
  const actions = Array.from({ length: spec.actions }, () => ({
    sessions: between(rng, 1, 4),
    seed: rng.nextUint32(),
  }));
  const attack = planAttack(spec);
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}

/** Runs one batch; the store file is removed first, as each batch's model of the server starts from none. */
async function runBatch(port: number, dataDir: string, batch: KvBatch): Promise<void> {
  rmSync(path.join(dataDir, "store.db"), { force: true });
  const report = await runNormalWorkload({ port, sessions: batch.sessions, seed: batch.seed });
  if (report.mismatches.length > 0) {
    throw new HomeostatError("E_IO", `kvserver answered wrongly: ${report.mismatches[0]}`);
  }
}

/** The format-string leak alone: read()'s address from the GOT, hence libc's (page-aligned) base. */
async function leakOnly(port: number, binary: string): Promise<string> {
  const elf = readElf(binary);
  const reply = elf.symbols.get("reply");
  const readGot = elf.gotSlots.get("read");
  if (reply === undefined || readGot === undefined)
    throw new HomeostatError("E_NOT_FOUND", "kvserver lacks reply or read's GOT slot");
  const [index] = await findArgumentIndex(port, "127.0.0.1", reply);
  const [address] = await leakQword(port, "127.0.0.1", reply, index, readGot);
  if (address >> 40n !== 0x7fn && address >> 40n !== 0x7en) {
    throw new HomeostatError("E_IO", `the format-string leak returned no libc address (0x${address.toString(16)})`);
  }
  return `leaked read() at 0x${address.toString(16)} through printf argument ${index}`;
}

async function runAttack(kind: string, port: number, binary: string, workDir: string): Promise<AttackReport> {
  const time = Date.now() / 1000;
  if (kind === "format-string-leak") {
    const evidence = await leakOnly(port, binary);
    return { kind, time, command: 'BLOB overflow: digest -> reply("%k$s", GOT[read])', evidence, dataOnly: false };
  }
  // The server runs in workDir, so a relative proof path keeps the command within the 63 bytes the blob holds.
  rmSync(path.join(workDir, "proof.txt"), { force: true });
  await runExploit({ port, binary, command: "id > proof.txt" });
  const evidence = proofFile(path.join(workDir, "proof.txt"), kind);
  return { kind, time, command: 'BLOB overflow: digest -> system("id > proof.txt")', evidence, dataOnly: false };
}

async function recordKv(binary: string, plan: RecordingPlan<KvBatch>, target: RecordingTarget): Promise<RecordedRun> {
  const dataDir = path.join(target.workDir, "data");
  mkdirSync(dataDir, { recursive: true });
  const started = Date.now() / 1000;
  const traced = startTraced(target.groups, {
    tracePath: target.tracePath,
    command: [binary, "0", dataDir],
    cwd: target.workDir,
    env: cleanEnv(target.workDir),
  });
  let attack: AttackReport | undefined;
  try {
    const m = await waitForOutput(traced.child, /^(\d+)\npid (\d+)\n/, "kvserver");
    const port = Number(m[1]);
    for (let i = 0; i < plan.actions.length; i++) {
      if (plan.attack?.at === i) attack = await runAttack(plan.attack.kind, port, binary, target.workDir);
      await runBatch(port, dataDir, plan.actions[i]!);
    }
    traced.signalTracees("SIGTERM");
    await traced.finish();
  } finally {
    target.groups.killAll();
  }
  return { started, ended: Date.now() / 1000, ...(attack !== undefined ? { attack } : {}) };
}

export const kvserverScenario: Scenario<KvBatch> = {
  name: "kvserver",
  attacks: KVSERVER_ATTACKS,
  dataOnlyAttacks: [],
  defaultActions: 12,
  unavailable: () => missingTools(["cc"]),
  image: () => `kvserver/homeostat-${homeostatVersion()}`,
  plan: planKvBatches,
  describe: (b) => `${b.sessions} client session${b.sessions > 1 ? "s" : ""} (workload seed ${b.seed})`,
  async prepare(workDir) {
    const binary = await buildTarget(path.join(workDir, "bin"));
    if (!existsSync(binary)) throw new HomeostatError("E_DEPENDENCY", "the kvserver build produced no binary");
    return { record: (plan, target) => recordKv(binary, plan, target), close: async () => {} };
  },
};
