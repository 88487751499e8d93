// What pooling merges, free of I/O: of one program's snapshots learnt on their hosts alone, those of the model
// spec most hosts keep (profiles of different models cannot be merged) at the most advanced state two of them
// reached, each restored from its blob as watch restores a stored profile (watch/storedProfiles.ts), then merged
// one into the other by the lifecycle's rules (lifecycleProfile.ts, merge): training models united, counts added,
// normal only when every profile merged is normal, else frozen or training by the freeze test on the summed counts.

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

const RANK: Readonly<Record<string, number>> = { training: 0, frozen: 1, normal: 2 };

/**
 * The snapshots a pooling merges, by host: of those learnt on their hosts alone (a profile started from the pool
 * holds the pool's own data, and merging it back would count its hosts twice), the model spec most hosts keep (on a
 * tie, the spec that sorts first), then of these the ones at the most advanced state that two hosts or more reached.
 * A host whose profile an attack or an administrator sent back to training (tolerize) thus leaves a pool of normal
 * hosts normal, and its unvetted training data out of it, instead of taking the pool back to training fleet-wide.
 */
export function poolGroup(snapshots: readonly StoredSnapshot[]): StoredSnapshot[] {
  const byModel = new Map<string, StoredSnapshot[]>();
  for (const s of snapshots) {
    if (s.base !== null) continue;
    const group = byModel.get(s.model);
    if (group === undefined) byModel.set(s.model, [s]);
    else group.push(s);
  }
  const models = [...byModel.keys()].sort();
  let best: StoredSnapshot[] = [];
  for (const m of models) if (byModel.get(m)!.length > best.length) best = byModel.get(m)!;
  return mostAdvanced(best).sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/** The snapshots at or past the most advanced state that two of them reached (all of them when none did). */
function mostAdvanced(snapshots: readonly StoredSnapshot[]): StoredSnapshot[] {
  for (let floor = RANK.normal!; floor > 0; floor--) {
    const at = snapshots.filter((s) => (RANK[s.state] ?? 0) >= floor);
    if (at.length >= 2) return at;
  }
  return [...snapshots];
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
