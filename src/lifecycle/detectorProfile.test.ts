import { describe, expect, it } from "vitest";
import { createDetector } from "../models/registry.js";
import { DetectorProfile, type DetectorStream } from "./detectorProfile.js";
import { HostMonitor } from "../engine/hostMonitor.js";
import type { LifecycleStep } from "./phProfile.js";

const SMALL = { normalWait: 5, normalFactor: 4, normalFactorDen: 3, anomalyLimit: 30, tolerizeLimit: 100 };

function feed(p: DetectorProfile, s: DetectorStream, calls: number[], t0: number): LifecycleStep[] {
  return calls.map((c, i) => p.step(s, c, t0 + i));
}

const loop = (n: number) => Array.from({ length: n }, (_, i) => [1, 2, 3, 4][i % 4]!);

describe("DetectorProfile (pH's lifecycle around a detector of src/models)", () => {
  it("stide: learns in chunks, freezes when nothing new comes, turns normal, and flags an unseen window", () => {
    const p = DetectorProfile.fromSpec("stide:k=3", SMALL);
    expect(p.model).toBe("stide:k=3");
    const s = p.newStream();
    // Nothing is learned before a chunk fills or the task ends: every call is "new" until then.
    const first = feed(p, s, loop(40), 0);
    expect(first.every((x) => x.transition === null)).toBe(true);
    p.endStream(s);
    expect(p.modelSize()).toBe(40);
    const t = p.newStream();
    const steps = feed(p, t, loop(100), 40);
    const froze = steps.findIndex((x) => x.transition === "froze");
    expect(froze).toBeGreaterThan(0);
    // Frozen at the first call where train_count x 3 > (train_count - last_mod_count) x 4.
    expect(p.trainCount * 3).toBeGreaterThan((p.trainCount - p.lastModCount) * 4);
    // normal_wait (5 s) after freezing, at the next call.
    const normalAt = steps.findIndex((x) => x.transition === "normal");
    expect(normalAt).toBe(froze + 5);
    expect(p.state).toBe("normal");
    const u = p.newStream();
    const ok = feed(p, u, [1, 2, 3, 4, 1, 2], 200);
    expect(ok.some((x) => x.anomaly)).toBe(false);
    const bad = p.step(u, 9, 206); // window (1 2 9): never seen
    expect(bad.anomaly).toBe(true);
    expect(bad.lfc).toBe(1);
    expect(p.syscallsSeen()).toEqual([1, 2, 3, 4]);
  });

  it("serializes and restores both models, the counters and the calls seen", () => {
    const p = DetectorProfile.fromSpec("ngram:n=3", SMALL);
    const s = p.newStream();
    feed(p, s, loop(300), 0);
    p.endStream(s);
    p.normalize();
    feed(p, p.newStream(), [1, 2, 7], 300);
    const q = DetectorProfile.deserialize(p.serialize());
    expect(q.model).toBe(p.model);
    expect(q.state).toBe("normal");
    expect([q.trainCount, q.lastModCount, q.anomalies]).toEqual([p.trainCount, p.lastModCount, p.anomalies]);
    expect(q.syscallsSeen()).toEqual(p.syscallsSeen());
    const probe = [1, 2, 3, 4, 8, 1];
    expect(feed(q, q.newStream(), probe, 400)).toEqual(feed(p, p.newStream(), probe, 400));
    expect(() => DetectorProfile.deserialize(Buffer.from("junk"))).toThrow(/profile/);
  });

  it("normal model equals the detector trained on the same calls (the snapshot is a true copy)", () => {
    const p = DetectorProfile.fromSpec("lookahead", SMALL);
    const calls = Array.from({ length: 5000 }, (_, i) => [3, 5, 7, 3, 9, 11][i % 6]! + (i % 97 === 0 ? 1 : 0));
    const s = p.newStream();
    feed(p, s, calls, 0);
    p.endStream(s);
    p.normalize();
    const direct = createDetector("lookahead");
    direct.train([Uint16Array.from(calls)]);
    const probe = Uint16Array.from([3, 5, 7, 4, 9, 11, 3, 12]);
    const viaProfile = feed(p, p.newStream(), [...probe], 10_000).map((x) => x.anomaly);
    const state = direct.newState();
    const viaDetector = [...probe].map((c) => direct.step(state, c) >= direct.signal.anomalousAt);
    expect(viaProfile).toEqual(viaDetector);
  });

  it("sensitize forgets what was learned, including what tasks still buffer", () => {
    const p = DetectorProfile.fromSpec("stide:k=2", SMALL);
    const s = p.newStream();
    feed(p, s, loop(50), 0);
    p.sensitize();
    p.endStream(s); // the buffer belonged to the forgotten model
    expect(p.modelSize()).toBe(0);
    expect(p.trainCount).toBe(0);
  });

  it("refuses models that cannot learn live, and bad specs", () => {
    expect(() => DetectorProfile.fromSpec("hmm")).toThrow(/refits in batch/);
    expect(() => DetectorProfile.fromSpec("stide:k=0")).toThrow();
    expect(() => DetectorProfile.fromSpec("nosuch")).toThrow(/unknown/);
  });

  it("drives the host monitor like a pH profile does", () => {
    const alerts: string[] = [];
    const m = new HostMonitor({
      settings: SMALL,
      identify: () => ({ path: "/usr/bin/x", dev: 1, ino: 2 }),
      createProfile: (settings) => DetectorProfile.fromSpec("stide:k=3", settings),
      onAlert: (a) => alerts.push(a.rule),
      clock: () => 0,
    });
    for (let pid = 10; pid < 14; pid++) {
      for (const [i, c] of loop(60).entries()) m.syscall(pid, pid, c, pid * 100 + i);
      m.exit(pid, pid, pid * 100 + 60);
    }
    m.syscall(20, 20, 1, 2000);
    m.syscall(20, 20, 2, 2001);
    m.syscall(20, 20, 9, 2002);
    expect(alerts).toContain("homeostat profile frozen");
    expect(alerts).toContain("homeostat profile normal");
    expect(alerts.at(-1)).toBe("Anomalous system calls");
    expect(m.profile("/usr/bin/x@1:2")!.profile.model).toBe("stide:k=3");
  });
});
