// Pooling's merge by the lifecycle's rules: two hosts' normal profiles pool into a normal one that knows what each
// learned; a pool with a host still training is not normal (frozen when the summed counts pass the freeze test,
// else training); detector profiles merge their detectors; snapshots of another model are left out; a damaged blob
// is left out and named; a host's profile started from the pool, or sent back to training while two others are
// normal, is left out.

import { describe, expect, it } from "vitest";
import { DetectorProfile } from "../lifecycle/detectorProfile.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import type { StoredSnapshot } from "./fleetStore.js";
import { commonPath, mergeSnapshots, poolGroup } from "./profileMerge.js";
import { trainedProfile } from "./testing/fleetTraffic.js";

const PROGRAM = `b-${"cd".repeat(20)}`;

function snapshot(host: string, p: LiveProfile, path = "/usr/bin/app"): StoredSnapshot {
  return {
    program: PROGRAM,
    host,
    path,
    model: p.model,
    state: p.state,
    trainCount: p.trainCount,
    version: 1,
    time: 1000,
    revision: 1,
    blob: p.serialize(),
    base: null,
  };
}

/** Anomalies a normal profile finds in `calls` (one stream). */
function anomalies(p: LiveProfile, calls: readonly number[]): number {
  const s = p.newStream();
  let n = 0;
  for (const c of calls) if (p.step(s, c, 2000).anomaly) n++;
  return n;
}

const A = [1, 2, 3, 4, 5, 6];
const B = [1, 2, 7, 8, 9, 6];

describe("pooling's merge", () => {
  it("pools two normal profiles into a normal one that knows what each host learned", () => {
    const a = trainedProfile(A, 50, true);
    const b = trainedProfile(B, 50, true);
    expect(anomalies(trainedProfile(A, 50, true), B)).toBeGreaterThan(0);
    const pool = mergeSnapshots([snapshot("a", a), snapshot("b", b)], 2000)!;
    expect(pool.profile.state).toBe("normal");
    expect(pool.profile.trainCount).toBe(a.trainCount + b.trainCount);
    expect(pool.merged.map((s) => s.host)).toEqual(["a", "b"]);
    expect(anomalies(pool.profile, A)).toBe(0);
    expect(anomalies(pool.profile, B)).toBe(0);
    expect(anomalies(pool.profile, [1, 9, 3, 8, 2])).toBeGreaterThan(0);
  });

  it("is not normal while one host still trains: frozen when the summed counts pass the freeze test", () => {
    const normal = trainedProfile(A, 200, true);
    const stable = trainedProfile(B, 200, false); // long stable: frozen by its own lifecycle
    expect(stable.state).toBe("frozen");
    const frozen = mergeSnapshots([snapshot("a", normal), snapshot("b", stable)], 2000)!.profile;
    expect(frozen.state).toBe("frozen");
    expect(frozen.normalTime).toBe(stable.normalTime);
    const young = trainedProfile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 1, false);
    expect(young.state).toBe("training");
    const training = mergeSnapshots(
      [snapshot("a", young), snapshot("b", trainedProfile([20, 21, 22], 1, false))],
      2000,
    )!;
    expect(training.profile.state).toBe("training");
    expect(Number.isNaN(training.profile.normalTime)).toBe(true);
  });

  it("merges detector profiles through their detectors", () => {
    const stide = (calls: readonly number[]) => {
      const p = DetectorProfile.fromSpec("stide:k=3", { normalWait: 3600 });
      const s = p.newStream();
      for (let r = 0; r < 40; r++) for (const c of calls) p.step(s, c, 1000);
      p.endStream(s);
      p.normalize();
      return p;
    };
    const pool = mergeSnapshots([snapshot("a", stide(A)), snapshot("b", stide(B))], 2000)!.profile;
    expect(pool.model).toBe("stide:k=3");
    expect(pool.state).toBe("normal");
    expect(anomalies(pool, [...A, ...A])).toBe(0);
    expect(anomalies(pool, [...B, ...B])).toBe(0);
  });

  it("pools the model most hosts keep, leaves out an unreadable blob, and names the common path", () => {
    const ph = (h: string) => snapshot(h, trainedProfile(A, 10, false), h === "c" ? "/opt/app" : "/usr/bin/app");
    const other = snapshot("d", DetectorProfile.fromSpec("stide:k=3"));
    expect(poolGroup([other, ph("b"), ph("a"), ph("c")]).map((s) => s.host)).toEqual(["a", "b", "c"]);
    expect(commonPath([ph("a"), ph("b"), ph("c")])).toBe("/usr/bin/app");
    const damaged = { ...ph("e"), blob: new Uint8Array([1, 2, 3]) };
    const pool = mergeSnapshots([ph("a"), damaged, ph("b")], 2000)!;
    expect(pool.merged.map((s) => s.host)).toEqual(["a", "b"]);
    expect(pool.unreadable.map((u) => u.host)).toEqual(["e"]);
    expect(mergeSnapshots([ph("a"), damaged], 2000)).toBeUndefined();
  });

  it("leaves out a profile started from the pool: its hosts are not counted twice", () => {
    const a = snapshot("a", trainedProfile(A, 50, true));
    const b = snapshot("b", trainedProfile(B, 50, true));
    const pulled = mergeSnapshots([a, b], 2000)!.profile;
    const c = { ...snapshot("c", pulled), base: 1 };
    expect(poolGroup([a, b, c]).map((s) => s.host)).toEqual(["a", "b"]);
    expect(mergeSnapshots(poolGroup([a, b, c]), 2000)!.profile.trainCount).toBe(pulled.trainCount);
    // Without two hosts that learnt alone there is nothing to pool.
    expect(mergeSnapshots(poolGroup([a, c]), 2000)).toBeUndefined();
  });

  it("keeps a pool of normal hosts normal when another host is sent back to training", () => {
    const a = snapshot("a", trainedProfile(A, 50, true));
    const b = snapshot("b", trainedProfile(B, 50, true));
    const tolerized = trainedProfile([1, 2, 66, 67, 68, 6], 50, true);
    tolerized.tolerize();
    expect(tolerized.state).toBe("training");
    const c = snapshot("c", tolerized);
    expect(poolGroup([c, b, a]).map((s) => s.host)).toEqual(["a", "b"]);
    const pool = mergeSnapshots(poolGroup([a, b, c]), 2000)!.profile;
    expect(pool.state).toBe("normal");
    expect(anomalies(pool, [1, 2, 66, 67, 68, 6])).toBeGreaterThan(0);
    // One normal host and two training: the two training ones are as far as two hosts got, so all three pool.
    const d = snapshot("d", trainedProfile([1, 2, 3], 1, false));
    expect(poolGroup([a, c, d]).map((s) => s.host)).toEqual(["a", "c", "d"]);
    expect(mergeSnapshots(poolGroup([a, c, d]), 2000)!.profile.state).toBe("training");
  });

  it("refuses to merge profiles of different models", () => {
    const a = trainedProfile(A, 10, false);
    expect(() => a.merge(DetectorProfile.fromSpec("stide:k=3"), 0)).toThrow(/cannot merge/);
  });
});
