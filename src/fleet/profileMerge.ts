// What pooling merges, free of I/O: of one program's snapshots, those of the model spec most hosts keep (profiles of
// different models cannot be merged), each restored from its blob as watch restores a stored profile
// (watch/storedProfiles.ts), then merged one into the other by the lifecycle's rules (lifecycleProfile.ts, merge):
// training models united, counts added, normal only when every host's profile is normal, else frozen or training
// by the freeze test on the summed counts.

import { isHomeostatError } from "../errors.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import { restoreProfile } from "../watch/storedProfiles.js";
import type { StoredSnapshot } from "./fleetStore.js";

export interface MergedPool {
  profile: LiveProfile;
  /** The snapshots merged, by host. */
  merged: StoredSnapshot[];
  /** Snapshots left out because their blob could not be restored, with why. */
  unreadable: { host: string; reason: string }[];
}

/** The snapshots of the model spec most hosts keep (on a tie, the spec that sorts first), by host. */
export function poolGroup(snapshots: readonly StoredSnapshot[]): StoredSnapshot[] {
  const byModel = new Map<string, StoredSnapshot[]>();
  for (const s of snapshots) {
    const group = byModel.get(s.model);
    if (group === undefined) byModel.set(s.model, [s]);
    else group.push(s);
  }
  const models = [...byModel.keys()].sort();
  let best: StoredSnapshot[] = [];
  for (const m of models) if (byModel.get(m)!.length > best.length) best = byModel.get(m)!;
  return [...best].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * Restores and merges `snapshots` (one model spec) at `now` (epoch seconds, the lifecycle's clock); undefined when
 * fewer than two can be restored.
 */
export function mergeSnapshots(snapshots: readonly StoredSnapshot[], now: number): MergedPool | undefined {
  const restored: { snapshot: StoredSnapshot; profile: LiveProfile }[] = [];
  const unreadable: MergedPool["unreadable"] = [];
  for (const s of snapshots) {
    try {
      restored.push({ snapshot: s, profile: restoreProfile(s.model, s.blob, `${s.program} on ${s.host}`) });
    } catch (err) {
      if (!isHomeostatError(err)) throw err;
      unreadable.push({ host: s.host, reason: err.oneLine() });
    }
  }
  if (restored.length < 2) return undefined;
  const [first, ...rest] = restored;
  const profile = first!.profile;
  for (const r of rest) profile.merge(r.profile, now);
  return { profile, merged: restored.map((r) => r.snapshot), unreadable };
}

/** The path most of the snapshots give the program (on a tie, the one that sorts first). */
export function commonPath(snapshots: readonly StoredSnapshot[]): string {
  const counts = new Map<string, number>();
  for (const s of snapshots) counts.set(s.path, (counts.get(s.path) ?? 0) + 1);
  let best = "";
  let n = 0;
  for (const [p, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (c > n) {
      best = p;
      n = c;
    }
  }
  return best;
}
