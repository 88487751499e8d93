import { describe, expect, it } from "vitest";
import type { ExeIdentity } from "../capture/hostEvents.js";
import {
  type HostAlert,
  HostMonitor,
  type HostMonitorOptions,
  IMPOSSIBLE_RULE,
  type ResponseRequest,
  syscallName,
} from "./hostMonitor.js";
import { PhProfile } from "../lifecycle/phProfile.js";

const LS: ExeIdentity = { path: "/usr/bin/ls", dev: 2049, ino: 11 };
const CAT: ExeIdentity = { path: "/usr/bin/cat", dev: 2049, ino: 12 };
const LS_REPLACED: ExeIdentity = { path: "/usr/bin/ls", dev: 2049, ino: 99 };

/** Small pH settings worked by hand: L = 2 (one pair per call), freeze after 4x the calls since the last change. */
const SMALL = {
  lookahead: 2,
  normalWait: 10,
  normalFactor: 4,
  normalFactorDen: 1,
  anomalyLimit: 5,
  tolerizeLimit: 3,
  frame: 8,
};

function setup(extra: Partial<HostMonitorOptions> = {}) {
  const alerts: HostAlert[] = [];
  const responses: ResponseRequest[] = [];
  const exes = new Map<number, ExeIdentity>();
  const m = new HostMonitor({
    settings: SMALL,
    identify: (pid) => exes.get(pid),
    onAlert: (a) => alerts.push(a),
    onResponse: (r) => responses.push(r),
    hostname: "test-host",
    clock: () => 1000,
    ...extra,
  });
  return { m, alerts, responses, exes };
}

/** Feeds `calls` for one task at times t, t+1, ... and returns the next time. */
function feed(m: HostMonitor, pid: number, tid: number, calls: number[], t: number): number {
  for (const c of calls) m.syscall(pid, tid, c, t++);
  return t;
}

const loop = (n: number) => Array.from({ length: n }, (_, i) => [0, 1, 2][i % 3]!);

describe("HostMonitor: one profile per executable (path, device, inode)", () => {
  it("processes of one executable share a profile; another executable or a replaced binary gets its own", () => {
    const { m, exes } = setup();
    exes.set(10, LS);
    exes.set(11, LS);
    exes.set(12, CAT);
    exes.set(13, LS_REPLACED);
    for (const pid of [10, 11, 12, 13]) feed(m, pid, pid, [0, 1], 0);
    const keys = [...m.profiles()].map((e) => e.key).sort();
    expect(keys).toEqual(["/usr/bin/cat@2049:12", "/usr/bin/ls@2049:11", "/usr/bin/ls@2049:99"]);
    expect(m.profile("/usr/bin/ls@2049:11")!.profile.trainCount).toBe(4);
    expect(m.profile("/usr/bin/ls@2049:11")!.tasks).toBe(2);
    expect(m.stats().processed).toBe(8);
  });

  it("exec moves a task to the new program's profile with a fresh sequence; threads share their process's", () => {
    const { m, exes } = setup();
    exes.set(20, CAT);
    feed(m, 20, 20, [0, 1, 2], 0);
    feed(m, 20, 21, [0, 1], 3); // a thread of pid 20
    expect(m.profile("/usr/bin/cat@2049:12")!.tasks).toBe(2);
    m.exec(20, 20, LS, 5);
    feed(m, 20, 20, [4], 6);
    const ls = m.profile("/usr/bin/ls@2049:11")!;
    expect(ls.profile.trainCount).toBe(1);
    expect(ls.profile.modelSize()).toBe(0); // a fresh sequence: no pair with the old program's calls
    expect(m.profile("/usr/bin/cat@2049:12")!.tasks).toBe(1);
    m.exit(20, 21, 7);
    expect(m.profile("/usr/bin/cat@2049:12")!.tasks).toBe(0);
    expect(m.stats().tasks).toBe(1);
  });

  it("a forked child inherits its parent's program, sequence and locality frame (pH copies the task)", () => {
    const { m, exes } = setup();
    exes.set(30, CAT);
    feed(m, 30, 30, [0, 1], 0);
    m.fork(30, 30, 31, 31, 2);
    m.syscall(31, 31, 2, 3); // pair (2 after 1): the child continues the parent's sequence
    const p = m.profile("/usr/bin/cat@2049:12")!.profile;
    expect(p.modelSize()).toBe(2); // (1,0) and (2,1)
  });

  it("ignores homeostat's own pid and counts unidentifiable processes", () => {
    const { m } = setup({ ignorePids: [42] });
    feed(m, 42, 42, [0, 1, 2], 0);
    feed(m, 43, 43, [0, 1], 0); // no identity (a kernel thread, or gone)
    m.exit(43, 43, 2); // its calls were kept in case a fork would name its program; now they are given up
    const s = m.stats();
    expect(s.ignored).toBe(3);
    expect(s.unattributed).toBe(2);
    expect(s.processed).toBe(0);
    expect(s.profiles).toBe(0);
  });
});

describe("HostMonitor: lifecycle, alerts and responses", () => {
  /** Trains LS until normal: the loop 0 1 2 adds 3 pairs in its first 4 calls, then freezes at 4 x 4 = 17 calls. */
  function normalLs(settings: Partial<typeof SMALL> = {}) {
    const ctx = setup({ settings: { ...SMALL, ...settings } });
    ctx.exes.set(10, LS);
    let t = feed(ctx.m, 10, 10, loop(30), 0);
    t = feed(ctx.m, 10, 10, [0], t + 20); // past normal_wait: the profile becomes normal at this call
    return { ...ctx, t };
  }

  it("training -> frozen -> normal, each announced in Falco's format", () => {
    const { m, alerts } = normalLs();
    expect(m.profile("/usr/bin/ls@2049:11")!.profile.state).toBe("normal");
    const rules = alerts.map((a) => a.rule);
    expect(rules).toEqual(["homeostat profile frozen", "homeostat profile normal"]);
    const a = alerts[1]!;
    expect(Object.keys(a).sort()).toEqual([
      "hostname",
      "output",
      "output_fields",
      "priority",
      "rule",
      "source",
      "tags",
      "time",
    ]);
    expect(a.hostname).toBe("test-host");
    expect(a.source).toBe("syscall");
    expect(a.output_fields["proc.exepath"]).toBe("/usr/bin/ls");
    expect(a.output_fields["proc.name"]).toBe("ls");
    expect(a.output_fields["homeostat.profile"]).toBe("/usr/bin/ls@2049:11");
    expect(Number.isNaN(Date.parse(a.time))).toBe(false);
  });

  it("an anomalous call of a normal profile alerts with its window, and asks for a delay while LFC > 0", () => {
    const { m, alerts, responses, t } = normalLs();
    alerts.length = 0;
    m.syscall(10, 10, 7, t); // 7 after 0: never seen
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.rule).toBe("Anomalous system calls");
    expect(a.priority).toBe("Warning");
    expect(a.output_fields["evt.type"]).toBe(syscallName(7));
    expect(a.output_fields["homeostat.lfc"]).toBe(1);
    // The window is the calls the pairs looked back over (L - 1 = 1 here), ending with the anomalous one.
    expect(a.output_fields["homeostat.window"]).toEqual([syscallName(7)]);
    expect(a.output).toMatch(/Anomalous poll in pid 10 \(\/usr\/bin\/ls\)/);
    expect(responses.map((r) => [r.kind, r.lfc])).toEqual([["delay", 1]]);
    // Normal calls keep the LFC (the frame still holds the anomaly), so delays go on until it leaves the frame.
    feed(m, 10, 10, [0, 1, 2], t + 1);
    expect(responses.length).toBe(4);
    feed(m, 10, 10, loop(9), t + 4);
    const last = responses.length;
    feed(m, 10, 10, [0, 1, 2], t + 13);
    expect(responses.length).toBe(last);
  });

  it("kill is requested once when a process reaches anomaly_limit; execve with a high LFC is suspended", () => {
    const { m, responses, t } = normalLs();
    feed(m, 10, 10, [7, 8, 9], t);
    m.syscall(10, 10, 59, t + 3); // execve after 3 anomalies: LFC 4 >= execve limit (tolerize_limit 3)
    expect(responses.at(-1)!.kind).toBe("suspend-execve");
    expect(responses.at(-1)!.lfc).toBe(4);
    feed(m, 10, 10, [11, 12, 13], t + 4);
    const kills = responses.filter((r) => r.kind === "kill");
    expect(kills).toHaveLength(1);
    expect(kills[0]!.anomalies).toBe(5);
    expect(kills[0]!.reason).toMatch(/anomaly_limit 5/);
  });

  it("rate-limits anomaly alerts per task and says how many were suppressed", () => {
    const { m, alerts, t } = normalLs({ anomalyLimit: 100, tolerizeLimit: 100 });
    alerts.length = 0;
    for (let i = 0; i < 12; i++) m.syscall(10, 10, 100 + i, t + 0.01 * i); // all within one second
    const anomalies = alerts.filter((a) => a.rule === "Anomalous system calls");
    expect(anomalies).toHaveLength(5);
    expect(m.stats().suppressedAlerts).toBe(7);
    m.syscall(10, 10, 200, t + 1.5);
    const next = alerts.filter((a) => a.rule === "Anomalous system calls").at(-1)!;
    expect(next.output_fields["homeostat.suppressed"]).toBe(7);
  });
});

describe("HostMonitor: bounded memory and explicit loss", () => {
  it("past maxTasks, events of new tasks are dropped, counted and alerted once; exits make room", () => {
    const { m, alerts, exes } = setup({ maxTasks: 3 });
    for (let pid = 1; pid <= 5; pid++) exes.set(100 + pid, CAT);
    for (let pid = 1; pid <= 5; pid++) feed(m, 100 + pid, 100 + pid, [0, 1], 0);
    const s = m.stats();
    expect(s.tasks).toBe(3);
    expect(s.dropped).toBe(4);
    expect(s.lost.monitor).toBe(4);
    expect(alerts.filter((a) => a.rule === "homeostat overload: events dropped")).toHaveLength(1);
    m.exit(101, 101, 1);
    feed(m, 104, 104, [0], 2);
    expect(m.stats().tasks).toBe(3);
    expect(m.stats().dropped).toBe(4);
  });

  it("past maxProfiles, events of new executables are dropped and counted", () => {
    const { m, exes } = setup({ maxProfiles: 1 });
    exes.set(1, CAT);
    exes.set(2, LS);
    feed(m, 1, 1, [0, 1], 0);
    feed(m, 2, 2, [0, 1], 0);
    expect(m.stats().profiles).toBe(1);
    expect(m.stats().dropped).toBeGreaterThan(0);
  });

  it("reports events the capture lost, coalesced into at most one alert a second", () => {
    const { m, alerts } = setup();
    m.lost(10, "kernel", 100);
    m.lost(5, "kernel", 100.2);
    m.tick(100.5);
    m.tick(101.3);
    const lost = alerts.filter((a) => a.rule === "homeostat capture lost events");
    expect(lost.map((a) => a.output_fields["homeostat.lost"])).toEqual([10, 5]);
    expect(m.stats().lost.kernel).toBe(15);
  });

  it("the end's tick(Infinity) still reports losses waiting for their alert, at a real time", () => {
    const { m, alerts } = setup();
    m.lost(1, "kernel", 5);
    m.lost(1, "kernel", 5.5);
    m.tick(Number.POSITIVE_INFINITY);
    const lost = alerts.filter((a) => a.rule === "homeostat capture lost events");
    expect(lost.map((a) => a.output_fields["homeostat.lost"])).toEqual([1, 1]);
    expect(Number.isNaN(Date.parse(lost[1]!.time))).toBe(false);
  });

  it("sweep forgets tasks whose process is gone", () => {
    const { m, exes } = setup();
    exes.set(1, CAT);
    exes.set(2, CAT);
    feed(m, 1, 1, [0], 0);
    feed(m, 2, 2, [0], 0);
    expect(m.sweep((pid) => pid === 2)).toBe(1);
    expect(m.stats().tasks).toBe(1);
  });

  it("uses a stored profile when one exists, and applies this run's lifecycle settings to it", () => {
    const stored = new PhProfile(512, { ...SMALL, anomalyLimit: 99 });
    stored.step(stored.newStream(), 1, 0);
    const { m, exes } = setup({
      loadProfile: (key) => (key === "/usr/bin/cat@2049:12" ? { profile: stored, version: 7 } : undefined),
      confirmGrace: 0,
    });
    exes.set(5, CAT);
    m.syscall(5, 5, 2, 1);
    const e = m.profile("/usr/bin/cat@2049:12")!;
    expect(e.profile).toBe(stored);
    expect(e.storedVersion).toBe(7);
    expect(e.profile.trainCount).toBe(2);
    expect(e.profile.settings.anomalyLimit).toBe(5);
  });
});

describe("HostMonitor: a child seen before its parent's fork returned", () => {
  it("keeps the child's first calls and replays them against the parent's program once the fork is seen", () => {
    // identify() knows only the parent: the child has gone by the time it would be asked.
    const exes = new Map<number, ExeIdentity>([[50, CAT]]);
    const m2 = new HostMonitor({ settings: SMALL, identify: (pid) => exes.get(pid), clock: () => 0 });
    feed(m2, 50, 50, [0, 1], 0);
    feed(m2, 51, 51, [2, 0], 2); // the child's calls first
    expect(m2.stats().processed).toBe(2);
    m2.fork(50, 50, 51, 51, 4);
    expect(m2.stats().processed).toBe(4);
    expect(m2.profile("/usr/bin/cat@2049:12")!.profile.modelSize()).toBe(3); // (1,0), (2,1) and (0,2)
    // A task that is never attributed counts its calls as unattributed when it ends.
    feed(m2, 60, 60, [1, 2, 3], 5);
    expect(m2.stats().unattributed).toBe(0);
    m2.exit(60, 60, 8);
    expect(m2.stats().unattributed).toBe(3);
  });
});

describe("HostMonitor: a relative exec path", () => {
  it("joins the profile of the same file (device and inode) known by its absolute path", () => {
    const m = new HostMonitor({ settings: SMALL, clock: () => 0 });
    m.exec(1, 1, { path: "/tmp/bin/prog", dev: 5, ino: 77 }, 0);
    m.exec(2, 2, { path: "bin/prog", dev: 5, ino: 77 }, 0);
    feed(m, 1, 1, [0, 1], 0);
    feed(m, 2, 2, [0, 1], 0);
    expect([...m.profiles()].map((e) => e.key)).toEqual(["/tmp/bin/prog@5:77"]);
    expect(m.profile("/tmp/bin/prog@5:77")!.profile.trainCount).toBe(4);
  });
});

describe("HostMonitor: static models (a sense of self from the binary)", () => {
  // x86_64 numbers: read 0, write 1, open 2, getpid 39, execve 59, exit 60, ptrace 101, exit_group 231.
  const LS_CODE = [0, 1, 2, 60, 231];
  const ls = "/usr/bin/ls@2049:11";

  function staticSetup(mode: "alert" | "kill" = "alert", extra: Partial<HostMonitorOptions> = {}) {
    return setup({ staticModels: mode, ...extra });
  }
  const impossible = (alerts: HostAlert[]) => alerts.filter((a) => a.rule === IMPOSSIBLE_RULE);

  it("alerts a call outside a complete model as Critical, in Falco's format, while the profile is training", () => {
    const { m, alerts } = staticSetup();
    m.exec(10, 10, LS, 0);
    expect(m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true })).toBe(true);
    feed(m, 10, 10, [0, 1, 2, 101, 0], 1);
    const [a, ...rest] = impossible(alerts);
    expect(rest).toEqual([]);
    expect(m.profile(ls)!.profile.state).toBe("training");
    expect(a!.priority).toBe("Critical");
    expect(Object.keys(a!).sort()).toEqual([
      "hostname",
      "output",
      "output_fields",
      "priority",
      "rule",
      "source",
      "tags",
      "time",
    ]);
    expect(a!.output).toBe(
      "Impossible system call ptrace in pid 10 (/usr/bin/ls): outside the static model derived from the binary (5 calls its code can make)",
    );
    expect(a!.output_fields).toMatchObject({
      "proc.pid": 10,
      "thread.tid": 10,
      "proc.exepath": "/usr/bin/ls",
      "proc.name": "ls",
      "evt.type": "ptrace",
      "homeostat.syscall_nr": 101,
      "homeostat.profile": ls,
      "homeostat.profile_state": "training",
      "homeostat.static_complete": true,
      "homeostat.static_checked": "live",
    });
    expect(a!.output_fields["homeostat.window"]).toEqual(["ptrace"]); // L - 1 = 1 call back, as anomaly alerts show
    expect(a!.tags).toContain("static");
    expect(m.stats()).toMatchObject({ impossibleCalls: 1, impossibleUncertain: 0, staticModels: 1, staticPending: 0 });
  });

  it("checks a normal profile's calls too, beside pH's anomaly detection", () => {
    const ctx = staticSetup("alert", { settings: { ...SMALL } });
    ctx.m.exec(10, 10, LS, 0);
    ctx.m.attachStaticModel(ls, { syscalls: [0, 1, 2, 7], complete: true });
    let t = feed(ctx.m, 10, 10, loop(30), 1);
    t = feed(ctx.m, 10, 10, [0], t + 20);
    expect(ctx.m.profile(ls)!.profile.state).toBe("normal");
    expect(impossible(ctx.alerts)).toEqual([]);
    ctx.m.syscall(10, 10, 7, t); // new to the profile, but the binary can make it: an anomaly only
    ctx.m.syscall(10, 10, 59, t + 1); // new, and impossible
    const rules = ctx.alerts.slice(-3).map((a) => [a.rule, a.output_fields["evt.type"]]);
    expect(rules).toEqual([
      ["Anomalous system calls", "poll"],
      ["Anomalous system calls", "execve"],
      [IMPOSSIBLE_RULE, "execve"],
    ]);
    expect(impossible(ctx.alerts)[0]!.output_fields["homeostat.profile_state"]).toBe("normal");
  });

  it("keeps the calls made before the analysis finished and checks them when the model is attached", () => {
    const { m, alerts } = staticSetup();
    m.exec(10, 10, LS, 0);
    m.exec(11, 11, LS, 0);
    feed(m, 10, 10, [0, 1, 101], 1);
    feed(m, 11, 11, [101, 39, 39], 1);
    expect(alerts).toEqual([]);
    expect(m.stats()).toMatchObject({ staticModels: 0, staticPending: 1 });
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    const found = impossible(alerts);
    expect(
      found.map((a) => [
        a.output_fields["evt.type"],
        a.output_fields["proc.pid"],
        a.output_fields["homeostat.static_checked"],
      ]),
    ).toEqual([
      ["getpid", 11, "after analysis"],
      ["ptrace", 10, "after analysis"],
    ]);
    expect(found[1]!.output).toMatch(/ptrace in pid 10 \(\/usr\/bin\/ls\).*\(made before the analysis finished\)$/);
    // From now on, calls are checked as they come; one alert per executable and call.
    m.syscall(10, 10, 101, 5);
    m.syscall(11, 11, 62, 5);
    expect(impossible(alerts).map((a) => a.output_fields["evt.type"])).toEqual(["getpid", "ptrace", "kill"]);
  });

  it("raises one alert per executable and call, however many processes and times it is made", () => {
    const { m, alerts } = staticSetup();
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    for (let pid = 10; pid < 14; pid++) {
      if (pid > 10) m.exec(pid, pid, LS, 0);
      for (let i = 0; i < 50; i++) m.syscall(pid, pid, 101, 1 + i);
    }
    m.exec(20, 20, CAT, 0);
    m.attachStaticModel("/usr/bin/cat@2049:12", { syscalls: LS_CODE, complete: true });
    m.syscall(20, 20, 101, 2); // another executable: its own alert
    expect(impossible(alerts).map((a) => a.output_fields["proc.exepath"])).toEqual(["/usr/bin/ls", "/usr/bin/cat"]);
    expect(m.stats().impossibleCalls).toBe(201);
  });

  it("an incomplete model alerts as a Warning that says so, and never asks for a kill", () => {
    const { m, alerts, responses } = staticSetup("kill");
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: false, incomplete: "1 syscall site not resolved" });
    m.syscall(10, 10, 101, 1);
    const [a] = impossible(alerts);
    expect(a!.priority).toBe("Warning");
    expect(a!.output).toBe(
      "System call ptrace in pid 10 (/usr/bin/ls) is outside the incomplete static model derived from the binary " +
        "(5 calls its code can make; 1 syscall site not resolved): likely impossible, not certain",
    );
    expect(a!.output_fields["homeostat.static_complete"]).toBe(false);
    expect(responses).toEqual([]);
    expect(m.stats()).toMatchObject({ impossibleCalls: 1, impossibleUncertain: 1 });
  });

  it("with kill, asks once per process to kill one that made a call outside a complete model", () => {
    const { m, responses } = staticSetup("kill");
    m.exec(10, 10, LS, 0);
    m.exec(11, 11, LS, 0);
    feed(m, 11, 11, [0, 101], 1); // before the analysis: killed when the model arrives, if still running it
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    feed(m, 10, 10, [0, 101, 101, 59], 3);
    expect(responses.map((r) => [r.kind, r.static, r.pid, r.syscall])).toEqual([
      ["kill", true, 11, "ptrace"],
      ["kill", true, 10, "ptrace"],
    ]);
    expect(responses[1]!.reason).toBe("ptrace is outside the static model of /usr/bin/ls");
    // With alert only, no response is asked for.
    const quiet = staticSetup("alert");
    quiet.m.exec(10, 10, LS, 0);
    quiet.m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    quiet.m.syscall(10, 10, 101, 1);
    expect(quiet.responses).toEqual([]);
  });

  it("holds the calls of a process known only from /proc until it has run without an exec: not learned, not checked before", () => {
    // pid 30 is first seen through identify(): /proc may already show the program it exec'd into, while the calls
    // being delivered are from before that exec. They are held until the exec arrives (and then given up), or until
    // the grace time has passed in event time, or it exits; then they are scored and checked.
    const { m, alerts, exes } = staticSetup();
    exes.set(30, LS);
    exes.set(31, LS);
    exes.set(32, LS);
    m.exec(1, 1, LS, 0);
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    const trained = () => m.profile(ls)!.profile.trainCount;
    m.syscall(30, 30, 33, 10); // the shell's dup2 and execve, charged to ls by /proc
    m.syscall(30, 30, 59, 10.1);
    expect(m.stats()).toMatchObject({ pending: 2, processed: 0 });
    m.exec(30, 30, LS, 10.2);
    m.syscall(30, 30, 0, 10.3);
    m.syscall(30, 30, 1, 12);
    expect(impossible(alerts)).toEqual([]);
    expect(m.stats()).toMatchObject({ pending: 0, unattributed: 2, processed: 2 });
    expect(trained()).toBe(2); // read and write; not the shell's calls
    expect(m.profile(ls)!.profile.syscallsSeen()).not.toContain(59);
    m.syscall(31, 31, 0, 20); // no exec follows: scored and checked once an event 1 s later arrives
    m.syscall(31, 31, 101, 20.1);
    expect(impossible(alerts)).toEqual([]);
    expect(trained()).toBe(2);
    m.syscall(31, 31, 0, 21.5);
    expect(trained()).toBe(5);
    expect(
      impossible(alerts).map((a) => [
        a.output_fields["proc.pid"],
        a.output_fields["evt.type"],
        a.output_fields["homeostat.static_checked"],
      ]),
    ).toEqual([[31, "ptrace", "live"]]);
    m.syscall(32, 32, 39, 30);
    m.exit(32, 32, 30.1); // ended without an exec: its calls were ls's
    expect(impossible(alerts).map((a) => a.output_fields["evt.type"])).toEqual(["ptrace", "getpid"]);
    expect(m.stats()).toMatchObject({ impossibleCalls: 2, pending: 0, unattributed: 2, processed: 6 });
    // /proc read before the exec (it named ls, the exec is of cat): the calls held were ls's, scored as such.
    exes.set(33, LS);
    m.syscall(33, 33, 62, 40);
    m.exec(33, 33, CAT, 40.1);
    expect(
      impossible(alerts)
        .map((a) => [a.output_fields["proc.pid"], a.output_fields["evt.type"]])
        .at(-1),
    ).toEqual([33, "kill"]);
    expect(m.stats()).toMatchObject({ pending: 0, unattributed: 2, processed: 7 });
  });

  it("scores held calls at a tick when no event came since the last one, at a fork, a full buffer, or the end", () => {
    const { m, alerts, exes } = staticSetup("alert", { confirmGrace: 100 });
    for (const pid of [40, 41, 42, 43]) exes.set(pid, LS);
    m.exec(1, 1, LS, 0);
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    m.syscall(40, 40, 101, 1);
    m.tick(2); // events arrived since the last tick: an exec may still be on its way
    expect(impossible(alerts)).toEqual([]);
    m.tick(3); // nothing since: whatever exec there was has been delivered
    expect(impossible(alerts)).toHaveLength(1);
    m.syscall(41, 41, 39, 4);
    m.fork(41, 41, 50, 50, 4); // a held process that forks is running its program
    expect(impossible(alerts)).toHaveLength(2);
    for (let i = 0; i < 257; i++) m.syscall(42, 42, 0, 5); // 256 held at most
    expect(m.stats().pending).toBe(0);
    m.syscall(43, 43, 62, 6);
    m.tick(Number.POSITIVE_INFINITY);
    expect(impossible(alerts).map((a) => a.output_fields["evt.type"])).toEqual(["ptrace", "getpid", "kill"]);
  });

  it("with static models off too, a task known from /proc is held (confirmGrace 0: scored at once)", () => {
    const held = setup();
    held.exes.set(30, LS);
    held.m.syscall(30, 30, 33, 10);
    held.m.exec(30, 30, LS, 10.2);
    expect(held.m.stats()).toMatchObject({ pending: 0, processed: 0, unattributed: 1 });
    const atOnce = setup({ confirmGrace: 0 });
    atOnce.exes.set(30, LS);
    atOnce.m.syscall(30, 30, 33, 10);
    atOnce.m.exec(30, 30, LS, 10.2);
    expect(atOnce.m.stats()).toMatchObject({ pending: 0, processed: 1, unattributed: 0 });
  });

  it("with static models off, a child seen before its parent's fork continues the parent's sequence", () => {
    // strace prints a child's first calls before its parent's clone returns: scored from an empty sequence, the
    // calls the program always makes after a fork would be anomalies.
    const run = (confirmGrace?: number) => {
      const { m, alerts, exes } = setup(confirmGrace === undefined ? {} : { confirmGrace });
      exes.set(10, LS);
      exes.set(11, LS);
      exes.set(12, LS);
      // Training: the parent forks (3) and its child's calls (5, 6) come through before the fork does, within
      // milliseconds, as strace prints them.
      let t = feed(m, 10, 10, [0, 1, 2, 3], 0);
      m.syscall(11, 11, 5, t + 0.001);
      m.syscall(11, 11, 6, t + 0.002);
      m.fork(10, 10, 11, 11, t + 0.003);
      m.exit(11, 11, t + 1);
      t = feed(m, 10, 10, loop(60), t + 2);
      t = feed(m, 10, 10, [0], t + 20); // normal from here
      expect(m.profile("/usr/bin/ls@2049:11")!.profile.state).toBe("normal");
      alerts.length = 0;
      // The same fork, its events in order this time.
      t = feed(m, 10, 10, [1, 2, 3], t);
      m.fork(10, 10, 12, 12, t);
      feed(m, 12, 12, [5, 6], t + 1);
      return alerts.filter((a) => a.rule === "Anomalous system calls").length;
    };
    expect(run()).toBe(0);
    expect(run(0)).toBeGreaterThan(0);
  });

  it("a child seen before its parent's fork is as certain as its parent", () => {
    const exes = new Map<number, ExeIdentity>([[50, CAT]]);
    const alerts: HostAlert[] = [];
    const m = new HostMonitor({
      settings: SMALL,
      identify: (pid) => exes.get(pid),
      onAlert: (a) => alerts.push(a),
      clock: () => 0,
      staticModels: "alert",
    });
    m.exec(50, 50, CAT, 0);
    m.attachStaticModel("/usr/bin/cat@2049:12", { syscalls: LS_CODE, complete: true });
    feed(m, 51, 51, [0, 101], 1); // unknown to /proc (gone): kept until the fork names its program
    m.fork(50, 50, 51, 51, 2);
    expect(impossible(alerts).map((a) => a.output_fields["proc.pid"])).toEqual([51]);
  });

  it("a child whose calls came before its fork continues its parent's program, whatever /proc showed later", () => {
    // sh forks a child that execs env, which execs true; watch reads /proc only after both execs, so it names true,
    // while the calls arriving (up to the fork's return) are still the forked shell's. Then the execs arrive.
    const exes = new Map<number, ExeIdentity>([[61, CAT]]);
    const alerts: HostAlert[] = [];
    const m = new HostMonitor({
      settings: SMALL,
      identify: (pid) => exes.get(pid),
      onAlert: (a) => alerts.push(a),
      clock: () => 0,
      staticModels: "alert",
    });
    const cat = "/usr/bin/cat@2049:12";
    m.exec(60, 60, LS, 0); // the parent runs ls here (a program whose model allows execve)
    m.attachStaticModel(ls, { syscalls: [...LS_CODE, 59], complete: true });
    m.exec(70, 70, CAT, 0);
    m.attachStaticModel(cat, { syscalls: LS_CODE, complete: true }); // cat's code has no execve
    m.syscall(61, 61, 0, 1); // held: /proc named cat
    m.syscall(61, 61, 59, 1.05);
    expect(impossible(alerts)).toEqual([]);
    m.fork(60, 60, 61, 61, 1.1);
    // Scored as ls's (the parent's program): its execve is inside ls's model, not an impossible call of cat.
    expect(impossible(alerts)).toEqual([]);
    expect(m.profile(ls)!.tasks).toBe(2);
    expect(m.profile(cat)!.tasks).toBe(1);
    m.exec(61, 61, CAT, 1.2);
    m.syscall(61, 61, 59, 1.3); // and cat's own execve, after its exec, is one
    expect(impossible(alerts).map((a) => [a.output_fields["proc.pid"], a.output_fields["proc.exepath"]])).toEqual([
      [61, CAT.path],
    ]);
  });

  it("a profile added calls onProfileAdded once, which may attach a stored model at once", () => {
    const added: string[] = [];
    const holder: { m?: HostMonitor } = {};
    const ctx = staticSetup("alert", {
      onProfileAdded: (entry) => {
        added.push(entry.key);
        holder.m!.attachStaticModel(entry.key, { syscalls: LS_CODE, complete: true });
      },
    });
    const m = (holder.m = ctx.m);
    ctx.exes.set(10, LS);
    feed(m, 10, 10, [0, 1], 0);
    m.exec(11, 11, LS, 1);
    m.syscall(11, 11, 101, 2);
    expect(added).toEqual([ls]);
    expect(impossible(ctx.alerts)).toHaveLength(1);
  });

  it("without a model (analysis failed, queue full), the program is monitored as before, and that is said once", () => {
    const { m, alerts } = staticSetup();
    m.exec(10, 10, LS, 0);
    m.exec(11, 11, CAT, 0);
    m.syscall(10, 10, 101, 1);
    expect(m.staticModelUnavailable(ls, "static analysis failed: not an ELF file", "E_FORMAT")).toBe(true);
    m.staticModelUnavailable(ls, "again", "E_FORMAT");
    m.staticAnalysisDropped("/usr/bin/cat@2049:12");
    feed(m, 10, 10, [101, 102], 2);
    expect(alerts.map((a) => [a.rule, a.priority])).toEqual([
      ["homeostat static analysis unavailable", "Informational"],
      ["homeostat overload: static analyses dropped", "Error"],
    ]);
    expect(alerts[0]!.output).toBe(
      "No static model of /usr/bin/ls: static analysis failed: not an ELF file; it is monitored by its learned profile only",
    );
    expect(alerts[0]!.output_fields["homeostat.static_error"]).toBe("E_FORMAT");
    expect(alerts[1]!.output_fields["homeostat.dropped_analyses"]).toBe(1);
    expect(m.stats()).toMatchObject({ staticModels: 0, staticPending: 0, staticUnavailable: 2, impossibleCalls: 0 });
    expect(m.profile(ls)!.profile.trainCount).toBe(3);
  });

  it("a model detached (its files changed) keeps calls again until the new one is attached", () => {
    const { m, alerts } = staticSetup();
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, { syscalls: LS_CODE, complete: true });
    m.syscall(10, 10, 101, 1);
    m.detachStaticModel(ls);
    feed(m, 10, 10, [101, 318], 2);
    expect(impossible(alerts)).toHaveLength(1);
    m.attachStaticModel(ls, { syscalls: [...LS_CODE, 318], complete: true });
    expect(impossible(alerts)).toHaveLength(1); // ptrace was alerted already; getrandom is in the new model
  });

  it("with static models off, nothing is kept or checked", () => {
    const { m, alerts } = setup();
    m.exec(10, 10, LS, 0);
    expect(m.attachStaticModel(ls, { syscalls: [0], complete: true })).toBe(false);
    m.syscall(10, 10, 101, 1);
    expect(alerts).toEqual([]);
    expect(m.profile(ls)!.static).toBeNull();
  });
});

describe("HostMonitor: static digraph (which call may follow which)", () => {
  // read 0, write 1, open 2, close 3, getpid 39; the code opens, reads, writes, closes, in that order only.
  const CODE = [0, 1, 2, 3];
  const PAIRS = [2, 0, 0, 0, 0, 1, 1, 0, 1, 3, 3, 2];
  const ls = "/usr/bin/ls@2049:11";
  const impossible = (alerts: HostAlert[]) => alerts.filter((a) => a.rule === IMPOSSIBLE_RULE);
  const model = { syscalls: CODE, pairs: PAIRS, complete: true };

  it("alerts a pair the code cannot make, once per pair, and checks the next call by the set only", () => {
    const { m, alerts } = setup({ staticModels: "alert" });
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, model);
    let t = feed(m, 10, 10, [2, 0, 0, 1, 3], 1);
    expect(impossible(alerts)).toEqual([]);
    t = feed(m, 10, 10, [2, 0, 1, 2], t); // open right after write: not a path of the code
    t = feed(m, 10, 10, [0, 1, 3], t);
    t = feed(m, 10, 10, [2, 1], t); // write right after open: another impossible pair
    feed(m, 10, 10, [0, 1, 2], t); // open after write again: already said
    const found = impossible(alerts);
    expect(found.map((a) => [a.output_fields["homeostat.static_previous"], a.output_fields["evt.type"]])).toEqual([
      ["write", "open"],
      ["open", "write"],
    ]);
    expect(found[0]!.priority).toBe("Critical");
    expect(found[0]!.output).toBe(
      "Impossible system call open right after write in pid 10 (/usr/bin/ls): the static digraph derived from the binary (6 ordered pairs its code can make) has no path from write to open",
    );
    expect(found[0]!.output_fields).toMatchObject({
      "homeostat.static_violation": "pair",
      "homeostat.static_pairs": 6,
    });
    expect(m.stats().impossibleCalls).toBe(3);
  });

  it("an outside call is one alert, not also a pair; the call after it starts afresh", () => {
    const { m, alerts } = setup({ staticModels: "alert" });
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, model);
    feed(m, 10, 10, [2, 0, 39, 3, 2], 1); // getpid is outside; close after it is not checked as a pair
    expect(
      impossible(alerts).map((a) => [a.output_fields["homeostat.static_violation"], a.output_fields["evt.type"]]),
    ).toEqual([["call", "getpid"]]);
  });

  it("does not check a pair across an exec, a fork or a loss of events", () => {
    const { m, alerts } = setup({ staticModels: "alert" });
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, model);
    feed(m, 10, 10, [2, 0, 1], 1);
    m.fork(10, 10, 11, 11, 4);
    feed(m, 11, 11, [2], 5); // the child's first call: its predecessor is not known
    feed(m, 10, 10, [1], 6); // write after write is a self pair absent from this model: the parent goes on checked
    m.lost(1, "kernel", 7);
    feed(m, 10, 10, [2], 8); // open after write, but events were lost in between
    m.exec(10, 10, LS, 9);
    feed(m, 10, 10, [1], 10);
    expect(
      impossible(alerts).map((a) => [
        a.output_fields["proc.pid"],
        a.output_fields["homeostat.static_previous"],
        a.output_fields["evt.type"],
      ]),
    ).toEqual([[10, "write", "write"]]);
  });

  it("checks the pairs made before the analysis finished when the model is attached", () => {
    const { m, alerts } = setup({ staticModels: "alert" });
    m.exec(10, 10, LS, 0);
    feed(m, 10, 10, [2, 0, 1, 2, 39, 3], 1);
    expect(alerts).toEqual([]);
    m.attachStaticModel(ls, model);
    expect(
      impossible(alerts).map((a) => [
        a.output_fields["homeostat.static_violation"],
        a.output_fields["homeostat.static_previous"] ?? null,
        a.output_fields["evt.type"],
        a.output_fields["homeostat.static_checked"],
      ]),
    ).toEqual([
      ["call", null, "getpid", "after analysis"],
      ["pair", "write", "open", "after analysis"],
    ]);
  });

  it("asks for a kill on an impossible pair of a complete model, not of an incomplete one", () => {
    const complete = setup({ staticModels: "kill" });
    complete.m.exec(10, 10, LS, 0);
    complete.m.attachStaticModel(ls, model);
    feed(complete.m, 10, 10, [2, 1], 1);
    expect(complete.responses.map((r) => [r.kind, r.static, r.pid, r.reason])).toEqual([
      ["kill", true, 10, "write right after open is outside the static model of /usr/bin/ls"],
    ]);
    const partial = setup({ staticModels: "kill" });
    partial.m.exec(10, 10, LS, 0);
    partial.m.attachStaticModel(ls, { ...model, complete: false, incomplete: "1 syscall site not resolved" });
    feed(partial.m, 10, 10, [2, 1], 1);
    expect(partial.responses).toEqual([]);
    expect(impossible(partial.alerts).map((a) => a.priority)).toEqual(["Warning"]);
  });

  it("a set-only model checks no pair", () => {
    const { m, alerts } = setup({ staticModels: "alert" });
    m.exec(10, 10, LS, 0);
    m.attachStaticModel(ls, { syscalls: CODE, complete: true });
    feed(m, 10, 10, [1, 2, 1, 3, 3], 1);
    expect(impossible(alerts)).toEqual([]);
  });
});
