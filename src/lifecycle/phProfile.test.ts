import { describe, expect, it } from "vitest";
import { PhProfile, type LifecycleStep } from "./phProfile.js";

/** Feeds calls at times 0, 1, 2, ... (or all at `now`) and returns every step. */
function feed(p: PhProfile, calls: number[], now?: number, stream = p.newStream()): LifecycleStep[] {
  return calls.map((c, i) => p.step(stream, c, now ?? i));
}

const alternating = (n: number) => Array.from({ length: n }, (_, i) => i % 2);

describe("PhProfile (pH lifecycle, worked by hand with L = 2: one pair per call, the previous call)", () => {
  it("freezes when train_count * 32 > normal_count * 128", () => {
    // 0 1 0 1 ...: call 1 adds (1,0), call 2 adds (0,1); after that nothing changes, so normal_count stays 3
    // (train_count at the last change) and the profile freezes at the first train_count with tc * 32 > 3 * 128,
    // i.e. tc = 13: the 13th call (index 12).
    const p = new PhProfile(3, { lookahead: 2, normalWait: 100 });
    const steps = feed(p, alternating(20));
    const froze = steps.findIndex((s) => s.transition === "froze");
    expect(froze).toBe(12);
    expect(steps[11]!.state).toBe("training");
    expect(steps[12]!.state).toBe("frozen");
    expect(p.normalTime).toBe(12 + 100);
    expect(p.modelSize()).toBe(2);
  });

  it("a frozen profile becomes normal after normal_wait, and a new pair unfreezes it before", () => {
    const p = new PhProfile(3, { lookahead: 2, normalWait: 100 });
    const s = p.newStream();
    feed(p, alternating(13), undefined, s);
    expect(p.state).toBe("frozen");
    // Before the wait is over, a new pair (2 after 0) unfreezes it.
    expect(p.step(s, 2, 50).state).toBe("training");
    const q = new PhProfile(3, { lookahead: 2, normalWait: 100 });
    const t = q.newStream();
    feed(q, alternating(13), undefined, t);
    const step = q.step(t, 1, 112); // the 14th call, at normal_time: becomes normal, then tests the call
    expect(step.transition).toBe("normal");
    expect(step.state).toBe("normal");
    expect(step.anomaly).toBe(false);
  });

  it("a normal profile counts anomalies in the locality frame and retrains past anomaly_limit", () => {
    const p = new PhProfile(4, { lookahead: 2, normalWait: 0, anomalyLimit: 2, tolerizeLimit: 100 });
    const s = p.newStream();
    feed(p, alternating(13), undefined, s);
    p.step(s, 1, 13); // becomes normal
    expect(p.state).toBe("normal");
    // 3 after 1: (3,1) unseen -> anomaly 1, LFC 1; 3 after 3: anomaly 2, LFC 2; 2 after 3: anomaly 3 > limit 2.
    const a = feed(p, [3, 3, 2], 14, s);
    expect(a.map((x) => [x.anomaly, x.lfc])).toEqual([
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
    expect(a[2]!.transition).toBe("retrain");
    expect(p.state).toBe("training");
  });

  it("a process over tolerize_limit empties the training table but the profile stays normal", () => {
    const p = new PhProfile(4, { lookahead: 2, normalWait: 0, anomalyLimit: 30, tolerizeLimit: 1 });
    const s = p.newStream();
    feed(p, alternating(13), undefined, s);
    p.step(s, 1, 13);
    const a = feed(p, [3, 3], 14, s);
    expect(a[0]!.transition).toBeNull();
    expect(a[1]!.lfc).toBe(2);
    expect(a[1]!.transition).toBe("tolerized");
    expect(p.trainCount).toBe(0);
    expect(p.modelSize()).toBe(0);
    expect(p.state).toBe("normal");
    // The normal table is untouched: the old behaviour is still normal.
    expect(p.step(p.newStream(), 0, 20).anomaly).toBe(false);
  });

  it("lookahead pairs at every lag: pH's 9-call window", () => {
    const p = new PhProfile(10, { normalWait: 0 });
    const s = p.newStream();
    const calls = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    feed(p, calls, 0, s);
    // Call k completes min(k, 8) pairs.
    expect(p.modelSize()).toBe(calls.reduce((n, _c, k) => n + Math.min(k, 8), 0));
    p.normalize();
    const t = p.newStream();
    feed(p, [0, 1, 2], 1, t);
    // 9 after 2 (lag 1), after 1 (lag 2) and after 0 (lag 3): none seen.
    expect(p.step(t, 9, 2).missing).toBe(3);
  });

  it("refuses bad settings", () => {
    expect(() => new PhProfile(3, { lookahead: 10 })).toThrow(/lookahead/);
    expect(() => new PhProfile(0)).toThrow(/ids/);
  });

  it("admin operations follow pH-admin/ebpH: tolerize stops normal monitoring, sensitize forgets training", () => {
    const p = new PhProfile(4, { lookahead: 2, normalWait: 0 });
    const s = p.newStream();
    feed(p, alternating(13), undefined, s);
    p.step(s, 1, 13);
    expect(p.state).toBe("normal");
    const pairs = p.modelSize();
    p.tolerize();
    expect(p.state).toBe("training");
    expect(p.modelSize()).toBe(pairs); // training data kept
    expect(p.step(s, 3, 14).anomaly).toBe(false); // no longer tested
    p.sensitize();
    expect(p.modelSize()).toBe(0);
    expect(p.trainCount).toBe(0);
    const q = new PhProfile(4, { lookahead: 2, normalWait: 0 });
    feed(q, alternating(13));
    q.normalize();
    q.sensitize();
    expect(q.state).toBe("normal"); // sensitize leaves the normal table alone
    expect(q.step(q.newStream(), 0, 1).anomaly).toBe(false);
  });

  it("serializes and restores every table, counter and state, and behaves the same after", () => {
    const p = new PhProfile(300, { lookahead: 9, normalWait: 5, normalFactor: 8, normalFactorDen: 2 });
    const s = p.newStream();
    const calls = Array.from({ length: 400 }, (_, i) => [0, 1, 2, 257, 3, 1, 2][i % 7]!);
    feed(p, calls, 0, s);
    p.normalize();
    feed(p, [4, 5, 6], 1, s);
    const bytes = p.serialize();
    expect(bytes.length).toBeLessThan(2_000); // sparse rows deflate well
    const q = PhProfile.deserialize(bytes);
    expect(q.state).toBe(p.state);
    expect(q.trainCount).toBe(p.trainCount);
    expect(q.lastModCount).toBe(p.lastModCount);
    expect(q.anomalies).toBe(p.anomalies);
    expect(q.modelSize()).toBe(p.modelSize());
    expect(q.normalModelSize()).toBe(p.normalModelSize());
    expect(q.syscallsSeen()).toEqual(p.syscallsSeen());
    expect(q.settings).toEqual(p.settings);
    const a = p.newStream();
    const b = q.newStream();
    const probe = [0, 1, 2, 9, 257, 3, 4, 5, 0, 1];
    expect(feed(q, probe, 2, b)).toEqual(feed(p, probe, 2, a));
    expect(Buffer.from(q.serialize())).toEqual(Buffer.from(p.serialize()));
  });

  it("refuses damaged bytes with E_PARSE", () => {
    const p = new PhProfile(8);
    feed(p, [1, 2, 3, 1, 2, 3]);
    const bytes = Buffer.from(p.serialize());
    expect(() => PhProfile.deserialize(bytes.subarray(0, bytes.length - 3))).toThrow(/pH profile/);
    expect(() => PhProfile.deserialize(Buffer.from("not a profile"))).toThrow(/pH profile/);
  });

  it("keeps one row per distinct current call, not symbols^2", () => {
    const p = new PhProfile(512);
    feed(
      p,
      Array.from({ length: 1000 }, (_, i) => i % 40),
    );
    expect(p.memoryBytes()).toBeLessThan(40 * 512 + 512 * 16 + 1);
  });
});
