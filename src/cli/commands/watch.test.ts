// End to end, for real: `homeostat watch` with the strace backend on the demo target (demo/kvserver.c). The server
// learns its normal sessions until its profile is normal (small pH settings); then, from copies of that state, a
// watch with `--response log` alerts on the real exploit, and a watch with `--response delay` slows the exploited
// processes (and only them) measurably.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bpftraceUnavailableReason } from "../../capture/bpftraceCapture.js";
import { freePort, listening } from "../../demo/demoRun.js";
import { runExploit } from "../../demo/exploitClient.js";
import { runNormalWorkload } from "../../demo/normalClient.js";
import { buildTarget } from "../../demo/target.js";
import { straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { until } from "../../response/testing/waits.js";
import { type HostAlert, HOST_SYMBOLS, IMPOSSIBLE_RULE } from "../../engine/hostMonitor.js";
import { profileRecord } from "../../watch/hostWatch.js";
import { PhProfile } from "../../lifecycle/phProfile.js";
import { StateStore } from "../../store/stateStore.js";
import { BIN } from "../../testing/paths.js";

const ccMissing =
  spawnSync("cc", ["--version"]).status !== 0 ? "no C compiler (apt-get install gcc libc6-dev)" : undefined;
const unavailable = straceUnavailableReason() ?? ccMissing;
if (unavailable !== undefined) console.log(`skipping the watch end-to-end test: ${unavailable}`);

/** Test settings: freeze when a quarter of the training calls added nothing new; normal one second later. */
const SMALL = ["--normal-factor", "4", "--normal-factor-den", "3", "--normal-wait", "1", "--save-interval", "0.5"];

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim();
      if (text !== "") out.push(...text.split(" ").map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

interface Watching {
  child: ChildProcess;
  alerts: HostAlert[];
  stderr: () => string;
  exit: Promise<number | null>;
  /** The server process strace started (the listener). */
  listener: () => number | undefined;
  stop: () => Promise<number | null>;
}

function watch(state: string, port: number, data: string, binary: string, extra: string[] = []): Watching {
  const child = spawn(
    process.execPath,
    [BIN, "watch", "--state", state, ...SMALL, "--json", ...extra, "--", binary, String(port), data],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  const alerts: HostAlert[] = [];
  let carry = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (s: string) => {
    carry += s;
    const lines = carry.split("\n");
    carry = lines.pop()!;
    for (const l of lines) if (l.startsWith("{")) alerts.push(JSON.parse(l) as HostAlert);
  });
  child.stderr!.on("data", (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    alerts,
    stderr: () => err,
    exit,
    listener: () => {
      for (const tracer of childrenOf(child.pid!)) {
        for (const p of childrenOf(tracer)) {
          try {
            if (readlinkSync(`/proc/${p}/exe`) === binary) return p;
          } catch {
            // gone
          }
        }
      }
      return undefined;
    },
    stop: async () => {
      child.kill("SIGINT");
      return exit;
    },
  };
}

const anomalies = (w: Watching, binary: string) =>
  w.alerts.filter((a) => a.rule === "Anomalous system calls" && a.output_fields["proc.exepath"] === binary);

function profilesJson(state: string): { exe: string; state: string }[] {
  const r = spawnSync(process.execPath, [BIN, "profiles", "list", "--json", "--state", state], { encoding: "utf8" });
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { exe: string; state: string }[];
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; error?: unknown }> {
  const t0 = performance.now();
  try {
    await fn();
    return { ms: performance.now() - t0 };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe.skipIf(unavailable !== undefined)("homeostat watch on the demo server (strace backend)", () => {
  let work = "";
  let binary = "";

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "homeostat-watch-"));
    binary = await buildTarget(join(work, "bin"));
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Normal sessions against a fresh data folder (the workload's model of the server starts empty). */
  const normal = async (port: number, data: string, sessions: number, seed: number) => {
    rmSync(join(data, "store.db"), { force: true });
    const r = await runNormalWorkload({ port, sessions, seed });
    expect(r.mismatches).toEqual([]);
  };

  /**
   * Trains the server's profile under watch until it is normal, once, for whichever test needs it first (so that
   * every test here also runs alone); returns the state folder and what the training run showed.
   */
  let training: Promise<{ state: string; w: Watching; states: string[]; code: number | null }> | undefined;
  const trained = () =>
    (training ??= (async () => {
      const state = join(work, "learned");
      const data = join(work, "data-learn");
      mkdirSync(data);
      const port = await freePort();
      const w = watch(state, port, data, binary);
      await listening(port);
      let states: string[] = [];
      for (let batch = 0; batch < 40; batch++) {
        await normal(port, data, 8, 100 + batch);
        await new Promise((r) => setTimeout(r, 600)); // a save, and the normal wait
        states = profilesJson(state)
          .filter((p) => p.exe === binary)
          .map((p) => p.state);
        if (states[0] === "normal") break;
      }
      const code = await w.stop();
      return { state, w, states, code };
    })());

  it("trains the server's profile until it is frozen and then normal, and stores it", async () => {
    const { w, states, code } = await trained();
    expect(states, `after 40 batches: ${w.stderr().slice(-2000)}`).toEqual(["normal"]);
    expect([0, 1]).toContain(code); // stopping the server may itself be anomalous now that it is normal
    // The server's binary was analysed (watch --static alert, the default): its normal sessions make no call outside
    // what its code can make.
    expect(
      w.alerts.filter((a) => a.rule === IMPOSSIBLE_RULE),
      w.stderr().slice(-2000),
    ).toEqual([]);
    const lifecycle = w.alerts.filter((a) => a.output_fields["proc.exepath"] === binary).map((a) => a.rule);
    expect(lifecycle).toContain("homeostat profile frozen");
    expect(lifecycle).toContain("homeostat profile normal");
    expect(lifecycle.indexOf("homeostat profile frozen")).toBeLessThan(lifecycle.indexOf("homeostat profile normal"));
    const summary = w.alerts.at(-1)!;
    expect(summary.rule).toBe("homeostat watch summary");
    const f = summary.output_fields as Record<string, number>;
    // Every captured event is accounted for: scored, or (the server's own execve, before it ran its program)
    // unattributed; none dropped.
    expect(f.captured).toBe(f.processed! + f.unattributed! + f.pending! + f.ignored! + f.dropped!);
    expect(f.processed).toBeGreaterThan(0.99 * f.captured!);
    expect(summary.output_fields.dropped).toBe(0);
  }, 120_000);

  const purpose = {
    log: "the exploit raises alerts in the server's processes",
    delay: "the exploited processes alone are slowed",
    "suspend-execve": "the hijacked process's execve of a shell is stopped (pH's suspend_execve)",
  } as const;
  for (const mode of ["log", "delay", "suspend-execve"] as const) {
    it(`with --response ${mode}: ${purpose[mode]}`, async () => {
      const { state: learned } = await trained();
      cpSync(learned, join(work, `${mode}-state`), { recursive: true });
      const data = join(work, `data-${mode}`);
      mkdirSync(data);
      const port = await freePort();
      const extra = {
        log: [],
        delay: ["--response", "delay", "--delay-factor", "20", "--max-delay", "3000"],
        "suspend-execve": ["--response", "suspend-execve", "--suspend-execve-time", "3"],
      }[mode];
      const w = watch(join(work, `${mode}-state`), port, data, binary, extra);
      await listening(port);
      const listener = w.listener();
      expect(listener).toBeDefined();
      const before = await timed(() => normal(port, data, 10, 7));
      expect(before.error).toBeUndefined();
      const falseAlarms = anomalies(w, binary).length;
      const proof = join(work, `pwned-${mode}`);
      // In the delay and suspend-execve runs the hijacked session lives on for a few seconds after its command (as a
      // shell an attacker keeps would): the responder acts on events as watch reads them, and on a loaded machine
      // that is after a short-lived session has already ended, leaving nothing to pause or stop.
      const command = mode === "log" ? `id > ${proof}` : `id > ${proof}; sleep 3`;
      const exploit = await timed(() => runExploit({ port, binary, command }));
      // Said at once: with --response delay the exploit's sessions are slowed, by design, so this is the step whose
      // length varies most (each read of its client gives up after 10 s).
      console.log(`watch --response ${mode}: the exploit took ${Math.round(exploit.ms)} ms`);
      await new Promise((r) => setTimeout(r, 300));
      const after = await timed(() => normal(port, data, 10, 8));
      const alerted = anomalies(w, binary).slice(falseAlarms);
      const code = await w.stop();
      if (after.error !== undefined) {
        // Which processes alerted and which were acted on, to tell a false alarm from a misattributed response.
        const store = StateStore.open(join(work, `${mode}-state`), { readonly: true });
        const acted = store.recentActions(200).map((a) => `${a.pid} ${a.outcome} (${a.reason})`);
        store.close();
        const seen = alerted.map((a) => `${a.output_fields["proc.pid"]}:${a.output_fields["evt.type"]}`);
        expect.fail(
          `normal sessions after the exploit failed (${String(after.error)}); listener ${listener}; ` +
            `alerts after the first ${falseAlarms}: ${seen.join(", ")}; actions: ${acted.join("; ")}`,
        );
      }
      const impossible = w.alerts.filter((a) => a.rule === IMPOSSIBLE_RULE);
      console.log(
        `watch --response ${mode}: calls outside the static models: ` +
          `${impossible.map((a) => `${a.output_fields["proc.name"]}:${a.output_fields["evt.type"]} (${a.priority})`).join(", ") || "none"}`,
      );
      console.log(
        `watch --response ${mode}: ${falseAlarms} anomaly alerts on 10 normal sessions, ${alerted.length} from the exploit; ` +
          `exploit ${Math.round(exploit.ms)} ms${exploit.error !== undefined ? " (the client gave up)" : ""}, ` +
          `10 normal sessions after it ${Math.round(after.ms)} ms`,
      );
      const context = `${mode}: exit ${code}, ${alerted.length} alerts, exploit ${Math.round(exploit.ms)} ms, stderr: ${w.stderr().slice(-2000)}`;
      expect(code, context).toBe(1);
      expect(alerted.length, context).toBeGreaterThan(0);
      const pids = new Set(alerted.map((a) => a.output_fields["proc.pid"]));
      expect(pids.has(listener!)).toBe(false);
      // Calls outside the server's static model (the exploit's system() is code the server never calls) come from
      // exploited sessions only.
      expect(impossible.filter((a) => a.output_fields["proc.pid"] === listener)).toEqual([]);
      if (mode === "log") {
        expect(exploit.error).toBeUndefined();
        expect(existsSync(proof)).toBe(true);
        return;
      }
      if (mode === "suspend-execve") {
        // system() forks a child of the hijacked session, which inherits its locality frame and calls execve.
        // Events reach user space after the call, so the new program is stopped as it starts (not refused).
        const store = StateStore.open(join(work, "suspend-execve-state"), { readonly: true });
        const actions = store.recentActions(10_000);
        store.close();
        const suspended = actions.filter((a) => a.outcome === "suspended");
        expect(suspended.length, `${context}; actions: ${JSON.stringify(actions.slice(0, 5))}`).toBeGreaterThan(0);
        expect(suspended[0]!.reason).toMatch(/execve with LFC \d+ >= 12/);
        expect(suspended.every((a) => a.pid !== listener)).toBe(true);
        expect(actions.some((a) => a.outcome === "resumed")).toBe(true); // watch resumed it when it stopped
        console.log(
          `watch --response suspend-execve: ${suspended.length} execve suspended; the exploit's command ran anyway: ${existsSync(proof)}`,
        );
        return;
      }
      // The delay run: the processes that alerted were paused for more than a second in all, never the listener, and
      // normal sessions after the exploit were not slowed (measured against the same run's sessions before it).
      expect(after.ms, context).toBeLessThan(2 * before.ms + 1000);
      const store = StateStore.open(join(work, "delay-state"), { readonly: true });
      const actions = store.recentActions(10_000);
      store.close();
      const paused = actions.filter((a) => a.outcome === "paused");
      expect(paused.length).toBeGreaterThan(0);
      const pausedMs = paused.reduce((n, a) => n + (a.json as { delayMs: number }).delayMs, 0);
      expect(pausedMs).toBeGreaterThan(1000);
      const allAlerted = new Set(anomalies(w, binary).map((a) => a.output_fields["proc.pid"]));
      for (const a of paused) {
        expect(allAlerted.has(a.pid)).toBe(true);
        expect(a.pid).not.toBe(listener);
      }
      console.log(
        `watch --response delay: ${paused.length} pauses, ${pausedMs} ms in total, of pids ${[...new Set(paused.map((a) => a.pid))].join(", ")}`,
      );
      // The bound covers the delay run, whose exploit is slowed on purpose: each of its up to a dozen sessions by up
      // to its client's read deadlines, which on a loaded machine can add up past a minute.
    }, 240_000);
  }
});

describe("homeostat watch: bad input", () => {
  // Made when the tests run, not when they are collected: a run filtered to other tests leaves nothing behind.
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "homeostat-watch-bad-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) => {
    // Its own default state folder: a case that fails after the store opens must not depend on the user's one.
    const r = spawnSync(process.execPath, [BIN, "watch", ...args], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", XDG_STATE_HOME: join(dir, "xdg-state") },
    });
    return { code: r.status, stderr: r.stderr };
  };

  it("usage errors: one line, exit 2; an unusable state folder: one line, exit 3", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const unusable = run(["--state", join(file, "state"), "--", "true"]);
    expect(unusable.code, unusable.stderr).toBe(3);
    expect(unusable.stderr.trim().split("\n")).toHaveLength(1);
    expect(unusable.stderr).toMatch(/E_PERMISSION.*a-file/);
    for (const [args, pattern] of [
      [["--response", "bogus", "--", "true"], /unknown --response "bogus"/],
      [["--static", "bogus", "--", "true"], /unknown --static "bogus" \(off, alert, kill\)/],
      [["--static-model", "pairs", "--", "true"], /unknown --static-model "pairs" \(digraph, set\)/],
      [["--backend", "strace"], /give a command after `--`, or --pid/],
      [["--backend", "bpftrace", "--", "true"], /needs --backend strace/],
      [["--backend", "ebpf"], /unknown --backend "ebpf"/],
      [["--model", "hmm", "--", "true"], /refits in batch/],
      [["--alerts-http", "ftp://host/", "--", "true"], /--alerts-http takes an http:\/\/ or https:\/\/ URL/],
      [["--alerts-http-pipeline", "0", "--", "true"], /--alerts-http-pipeline needs a number from 1 to 256, got "0"/],
      [["--alerts-syslog", "--syslog-facility", "bogus", "--", "true"], /unknown --syslog-facility "bogus"/],
      [["--metrics", "here", "--", "true"], /--metrics takes HOST:PORT or PORT/],
      [["--config", join(dir, "missing.json"), "--", "true"], /missing\.json: cannot read the settings file/],
    ] as const) {
      const r = run([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });

  it("without eBPF (here: no bpftrace on PATH), one sentence that says why and offers the strace backend", () => {
    const r = spawnSync(process.execPath, [BIN, "watch", "--state", join(dir, "no-ebpf")], {
      encoding: "utf8",
      env: { ...process.env, PATH: "/nonexistent", NO_COLOR: "1" },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/E_DEPENDENCY.*apt-get install bpftrace.*--backend strace/);
  });

  it.skipIf(unavailable !== undefined)(
    "a corrupt stored profile: watch warns, goes on with a new one, and leaves the stored copy alone",
    () => {
      const state = join(dir, "state");
      const exe = realpathSync("/usr/bin/true");
      const st = statSync(exe);
      const key = `${exe}@${st.dev}:${st.ino}`;
      const store = StateStore.open(state);
      store.saveProfiles([profileRecord(key, { path: exe, dev: st.dev, ino: st.ino }, new PhProfile(HOST_SYMBOLS))]);
      store.close();
      const db = new Database(join(state, "homeostat.db"));
      const row = db.prepare("SELECT blob FROM profiles WHERE key = ?").get(key) as { blob: Buffer };
      row.blob[3] = row.blob[3]! ^ 0x55;
      db.prepare("UPDATE profiles SET blob = ? WHERE key = ?").run(row.blob, key);
      db.close();
      const r = run(["--state", state, "--", "/usr/bin/true"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        new RegExp(`warning: stored profile ${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} cannot be read .*is damaged`),
      );
      const after = new Database(join(state, "homeostat.db"), { readonly: true });
      const kept = after.prepare("SELECT blob, version FROM profiles WHERE key = ?").get(key) as {
        blob: Buffer;
        version: number;
      };
      after.close();
      expect(kept.version).toBe(1);
      expect(kept.blob.equals(row.blob)).toBe(true);
    },
  );
});

/** A program that can run code it writes at run time: the system call in that code is one its binary cannot make. */
const INJECTING_PROGRAM = String.raw`
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "inject") == 0) {
    /* mov eax, 110 (getppid); syscall; ret */
    static const unsigned char code[] = {0xb8, 110, 0, 0, 0, 0x0f, 0x05, 0xc3};
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return 2;
    memcpy(page, code, sizeof code);
    long (*injected)(void) = (long (*)(void))page;
    printf("injected call returned %ld\n", injected());
    fflush(stdout);
  } else {
    FILE *f = fopen("/etc/hostname", "r");
    char line[256];
    if (f != NULL && fgets(line, sizeof line, f) != NULL) printf("%s", line);
    if (f != NULL) fclose(f);
  }
  /* "wait": until stdin ends, so that the test sees whether watch kills it */
  if (argc > 2) {
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
  }
  return 0;
}
`;

interface StaticShow {
  key: string;
  syscalls: string[];
  static: { complete: boolean; syscalls: string[]; unseen: string[]; outside: string[] } | null;
}

describe.skipIf(unavailable !== undefined)(
  "homeostat watch --static: a sense of self from the binary (strace backend)",
  () => {
    let work = "";
    let prog = "";
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), "homeostat-watch-static-"));
      writeFileSync(join(work, "prog.c"), INJECTING_PROGRAM);
      prog = join(work, "prog");
      const cc = spawnSync("cc", ["-O1", "-o", prog, join(work, "prog.c")], { encoding: "utf8" });
      expect(cc.status, cc.stderr).toBe(0);
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    const lines = (out: string): HostAlert[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as HostAlert);
    const runWatch = (state: string, command: string[], extra: string[] = [], env: NodeJS.ProcessEnv = {}) => {
      const r = spawnSync(process.execPath, [BIN, "watch", "--state", state, "--json", ...extra, "--", ...command], {
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", ...env },
      });
      const alerts = lines(r.stdout);
      const summary = alerts.at(-1)!;
      expect(summary.rule, r.stderr).toBe("homeostat watch summary");
      return {
        code: r.status,
        alerts: alerts.slice(0, -1),
        summary: summary.output_fields as Record<string, unknown>,
        stderr: r.stderr,
      };
    };
    const show = (state: string, selector: string): StaticShow => {
      const r = spawnSync(process.execPath, [BIN, "profiles", "show", selector, "--json", "--state", state], {
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as StaticShow;
    };

    it("benign programs: no call outside their static models, each model holds every call learned, and is stored", () => {
      const state = join(work, "benign");
      // A shell, its children (each seen first through /proc, before strace reports the fork), a program of our own.
      const command = ["/bin/sh", "-c", `for i in 1 2 3; do /bin/cat /etc/hostname; done; ${prog}; /usr/bin/env true`];
      // Wait for every analysis at the end, however loaded the machine: the figures below count all five.
      const first = runWatch(state, command, ["--static-wait", "600"]);
      const context = `stderr: ${first.stderr.slice(-2000)}; alerts: ${JSON.stringify(first.alerts).slice(0, 2000)}`;
      expect(first.code, context).toBe(0);
      expect(
        first.alerts.filter((a) => a.tags.includes("static")),
        context,
      ).toEqual([]);
      expect(first.summary.static, context).toMatchObject({
        policy: "alert",
        analysed: 5,
        failed: 0,
        dropped: 0,
        unfinished: 0,
        impossibleCalls: 0,
      });
      const store = StateStore.open(state, { readonly: true });
      const keys = store.listProfiles().map((p) => p.key);
      store.close();
      const names = keys.map((k) => k.slice(k.lastIndexOf("/", k.indexOf("@")) + 1, k.indexOf("@")));
      expect(names).toHaveLength(5); // the shell (dash or bash), and these
      expect(names).toEqual(expect.arrayContaining(["cat", "env", "prog", "true"]));
      for (const key of keys) {
        const p = show(state, key);
        expect(p.static, key).not.toBeNull();
        expect(p.syscalls.length, key).toBeGreaterThan(0);
        const set = new Set(p.static!.syscalls);
        expect(
          p.syscalls.filter((n) => !set.has(n)),
          `${key} learned calls outside its static model`,
        ).toEqual([]);
        expect(p.static!.outside).toEqual([]);
        // What the binary can make but training never saw: the rest of the set.
        expect(p.static!.unseen).toEqual(p.static!.syscalls.filter((n) => !p.syscalls.includes(n)));
      }
      // A second watch takes the models from the store: the files are unchanged.
      const second = runWatch(state, command);
      expect(
        second.code,
        `${second.stderr.slice(-2000)}; alerts: ${JSON.stringify(second.alerts).slice(0, 3000)}`,
      ).toBe(0);
      expect(second.summary.static).toMatchObject({ analysed: 0, fromStore: 5, reanalysed: 0, impossibleCalls: 0 });
    });

    it("code written at run time makes a call its binary cannot: alerted on the program's first run, before any training", () => {
      const state = join(work, "inject");
      const r = runWatch(state, [prog, "inject"]);
      const found = r.alerts.filter((a) => a.rule === IMPOSSIBLE_RULE);
      expect(found, r.stderr).toHaveLength(1);
      const a = found[0]!;
      const complete = a.output_fields["homeostat.static_complete"] === true;
      expect(a.priority).toBe(complete ? "Critical" : "Warning");
      expect(a.output_fields).toMatchObject({
        "evt.type": "getppid",
        "proc.exepath": prog,
        "homeostat.profile_state": "training",
      });
      expect(a.output).toMatch(new RegExp(`getppid in pid \\d+ \\(${prog.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
      expect(a.output).toMatch(
        complete ? /outside the static model derived from the binary/ : /outside the incomplete static model/,
      );
      expect(r.code).toBe(1);
      expect(show(state, prog).static!.outside).toEqual(["getppid"]);
    });

    it("--static kill kills the process through the responder (when the model is complete), and records why", async () => {
      const state = join(work, "kill");
      const child = spawn(
        process.execPath,
        [BIN, "watch", "--state", state, "--json", "--static", "kill", "--", prog, "inject", "wait"],
        {
          stdio: ["pipe", "pipe", "pipe"],
          env: { ...process.env, NO_COLOR: "1" },
        },
      );
      let out = "";
      let err = "";
      child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
      child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      // The program waits on its stdin: until the alert (then it is either killed, or let go), or until watch ends.
      const alerted = await new Promise<HostAlert | undefined>((resolve) => {
        const look = () => {
          const a = lines(out.slice(0, out.lastIndexOf("\n") + 1)).find((x) => x.rule === IMPOSSIBLE_RULE);
          if (a !== undefined) resolve(a);
        };
        child.stdout!.on("data", look);
        void exit.then(() => resolve(undefined));
      });
      expect(alerted, err).toBeDefined();
      const complete = alerted!.output_fields["homeostat.static_complete"] === true;
      if (!complete) child.stdin!.end(); // an incomplete model never kills: let the program end
      const guard = setTimeout(() => child.stdin!.end(), 30_000); // only if the kill never came: fail, do not hang
      const code = await exit;
      clearTimeout(guard);
      const summary = lines(out).at(-1)!.output_fields as unknown as { signal?: string };
      const store = StateStore.open(state, { readonly: true });
      const actions = store.recentActions(10);
      store.close();
      expect(code, err).toBe(1);
      if (complete) {
        expect(summary.signal, err).toBe("SIGKILL");
        expect(actions.map((x) => [x.action, x.outcome])).toEqual([["kill", "killed"]]);
        expect(actions[0]!.reason).toMatch(/^getppid is outside the static model of .*prog: killed \(SIGKILL\)$/);
      } else {
        console.log("the static model of the test program is incomplete: --static kill rightly did not kill");
        expect(actions).toEqual([]);
      }
    });

    it("a binary that cannot be analysed (a library found only through LD_LIBRARY_PATH) is said so once, and watched as before", () => {
      const lib = join(work, "lib");
      mkdirSync(lib);
      writeFileSync(join(work, "greet.c"), "int greet(void) { return 42; }\n");
      writeFileSync(join(work, "main.c"), "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n");
      for (const args of [
        ["-shared", "-fPIC", "-o", join(lib, "libgreet.so"), join(work, "greet.c")],
        ["-o", join(work, "greeter"), join(work, "main.c"), `-L${lib}`, "-lgreet"],
      ]) {
        const cc = spawnSync("cc", args, { encoding: "utf8" });
        expect(cc.status, cc.stderr).toBe(0);
      }
      const state = join(work, "unanalysable");
      const r = runWatch(state, [join(work, "greeter")], [], { LD_LIBRARY_PATH: lib });
      expect(r.code, r.stderr).toBe(0);
      const said = r.alerts.filter((a) => a.rule === "homeostat static analysis unavailable");
      expect(
        said.map((a) => [a.priority, a.output_fields["proc.exepath"], a.output_fields["homeostat.static_error"]]),
      ).toEqual([["Informational", join(work, "greeter"), "E_NOT_FOUND"]]);
      expect(said[0]!.output).toMatch(/libgreet\.so.*monitored by its learned profile only$/);
      expect(r.summary.static).toMatchObject({ failed: 1, impossibleCalls: 0 });
      const p = show(state, "greeter");
      expect(p.static).toBeNull();
      expect(p.syscalls.length).toBeGreaterThan(0);
    });
  },
);

const noEbpf = bpftraceUnavailableReason();
if (noEbpf !== undefined) console.log(`skipping the system-wide watch test: ${noEbpf}`);

describe.skipIf(noEbpf !== undefined)("homeostat watch system-wide (bpftrace backend)", () => {
  // Made when the tests run, not when they are collected: a run filtered to other tests leaves nothing behind.
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "homeostat-watch-ebpf-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("profiles a program by its file, sees it freeze and turn normal, then alerts on new behaviour; nothing lost", async () => {
    // A copy of ls: a program no other process on the host runs, with its own inode.
    const prog = join(dir, "lscopy");
    cpSync("/usr/bin/ls", prog);
    const st = statSync(prog);
    const key = `${prog}@${st.dev}:${st.ino}`;
    const state = join(dir, "state");
    const child = spawn(process.execPath, [BIN, "watch", "--state", state, ...SMALL, "--json", "--duration", "30"], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let err = "";
    let out = "";
    child.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
    });
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    for (let i = 0; i < 200 && !err.includes("watching the host"); i++) await new Promise((r) => setTimeout(r, 50));
    expect(err).toContain("watching the host (eBPF)");
    const runProg = (args: string[]) => spawnSync(prog, args, { stdio: "ignore" });
    const alerts = (): HostAlert[] =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{") && l.endsWith("}"))
        .map((l) => JSON.parse(l) as HostAlert);
    const ours = () => alerts().filter((a) => a.output_fields["homeostat.profile"] === key);
    for (let i = 0; i < 60 && !ours().some((a) => a.rule === "homeostat profile normal"); i++) {
      runProg(["/"]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ours().map((a) => a.rule)).toContain("homeostat profile normal");
    runProg(["-la", "/proc/self/"]);
    runProg(["-R", "/usr/share/doc/bash"]);
    for (let i = 0; i < 40 && !ours().some((a) => a.rule === "Anomalous system calls"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGINT");
    const code = await exit;
    expect([0, 1]).toContain(code);
    const anomalies = ours().filter((a) => a.rule === "Anomalous system calls");
    expect(anomalies.length).toBeGreaterThan(0);
    expect(anomalies[0]!.output_fields["proc.exepath"]).toBe(prog);
    // One profile for the file, stored under its key.
    const store = StateStore.open(state, { readonly: true });
    const mine = store.listProfiles().filter((p) => p.ino === st.ino && p.dev === st.dev);
    store.close();
    expect(mine.map((p) => p.key)).toEqual([key]);
    expect(mine[0]!.trainCount).toBeGreaterThan(0); // it trained until normal
    // The summary accounts for every event delivered, and says what the kernel lost.
    const summary = alerts().at(-1)!;
    expect(summary.rule).toBe("homeostat watch summary");
    const f = summary.output_fields as unknown as {
      backend: string;
      captured: number;
      kernelCounted: number;
      processed: number;
      unattributed: number;
      pending: number;
      ignored: number;
      dropped: number;
      lost: { kernel: number };
    };
    expect(f.backend).toBe("bpftrace");
    expect(f.captured).toBe(f.processed + f.unattributed + f.pending + f.ignored + f.dropped);
    expect(f.captured).toBeGreaterThan(0);
    expect(f.kernelCounted).toBeGreaterThanOrEqual(f.captured);
    // What the kernel reports lost cannot exceed what it counted and did not deliver.
    expect(f.lost.kernel).toBeLessThanOrEqual(f.kernelCounted - f.captured);
  }, 60_000);
});

describe.skipIf(straceUnavailableReason() !== undefined)("homeostat watch as a service: signals, metrics", () => {
  // Made when the tests run, not when they are collected: a run filtered to other tests leaves nothing behind.
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "homeostat-watch-signals-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("SIGHUP reloads the settings file; SIGTERM stops it cleanly: profiles saved, exit 0", async () => {
    const state = join(dir, "state");
    const started = join(dir, "started");
    const config = join(dir, "watch.json");
    writeFileSync(config, JSON.stringify({ anomalyLimit: 30 }));
    const port = await freePort();
    // The command keeps running until watch is told to stop: SIGTERM comes while it is being watched.
    const child = spawn(
      process.execPath,
      [
        BIN,
        "watch",
        "--state",
        state,
        "--config",
        config,
        "--metrics",
        `127.0.0.1:${port}`,
        "--save-interval",
        "3600",
        "--",
        "/bin/sh",
        "-c",
        `/bin/cat /etc/hostname >/dev/null; : > '${started}'; while :; do sleep 0.05; done`,
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
    );
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    await until("the watched command to start", () => existsSync(started));
    await until("the announcement", () => err.includes("metrics at http://127.0.0.1:"));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^homeostat_events_captured_total [1-9]/m);
    writeFileSync(config, JSON.stringify({ anomalyLimit: 40, tolerizeLimit: 20 }));
    child.kill("SIGHUP");
    await until(
      () => `the reload (stderr so far: ${err})`,
      () => err.includes(`settings reloaded from ${config}`),
    );
    expect(child.exitCode).toBeNull(); // SIGHUP does not stop it
    child.kill("SIGTERM");
    const { code, signal } = await exit;
    expect({ code, signal }, err).toEqual({ code: 0, signal: null });
    // Every profile was saved by the final save (the periodic one is an hour away).
    const exes = profilesJson(state).map((p) => p.exe);
    expect(exes).toContain(realpathSync("/bin/sh"));
    expect(exes).toContain(realpathSync("/bin/cat"));
    // The port is free again.
    const again = await freePort();
    expect(again).toBeGreaterThan(0);
  });
});
