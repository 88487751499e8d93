import { describe, expect, it } from "vitest";
import type { ExeIdentity } from "../capture/hostEvents.js";
import { type HostAlert, HostMonitor, type HostMonitorOptions, type ResponseRequest, syscallName } from "./hostMonitor.js";
import { PhProfile } from "./phProfile.js";

const LS: ExeIdentity = { path: "/usr/bin/ls", dev: 2049, ino: 11 };
const CAT: ExeIdentity = { path: "/usr/bin/cat", dev: 2049, ino: 12 };
const LS_REPLACED: ExeIdentity = { path: "/usr/bin/ls", dev: 2049, ino: 99 };

/** Small pH settings worked by hand: L = 2 (one pair per call), freeze after 4x the calls since the last change. */
const SMALL = { lookahead: 2, normalWait: 10, normalFactor: 4, normalFactorDen: 1, anomalyLimit: 5, tolerizeLimit: 3, frame: 8 };

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
    expect(ls.profile.pairCount()).toBe(0); // a fresh sequence: no pair with the old program's calls
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
    expect(p.pairCount()).toBe(2); // (1,0) and (2,1)
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
    expect(Object.keys(a).sort()).toEqual(["hostname", "output", "output_fields", "priority", "rule", "source", "tags", "time"]);
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
    const { m, exes } = setup({ loadProfile: (key) => (key === "/usr/bin/cat@2049:12" ? { profile: stored, version: 7 } : undefined) });
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
    expect(m2.profile("/usr/bin/cat@2049:12")!.profile.pairCount()).toBe(3); // (1,0), (2,1) and (0,2)
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
