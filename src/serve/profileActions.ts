// What the console does to a profile, beside showing it: pH-admin's operations, through the same path as
// `homeostat profiles <op>` (watch/profileAdmin.ts: the store opened for writing only for that one transaction,
// no writer lock, so a running watch sees the new version at its next poll and loads it), and the seccomp
// allow-list `homeostat profiles export` writes, for download.

import { syscallName } from "../engine/hostAlerts.js";
import { HomeostatError } from "../errors.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import { PhProfile } from "../lifecycle/phProfile.js";
import { type SeccompProfile, seccompPolicy } from "../response/seccompPolicy.js";
import { type ProfileSummary, StateStore } from "../store/stateStore.js";
import {
  type AdminOperation,
  type AdminOutcome,
  administerProfiles,
  loadStoredProfile,
} from "../watch/profileAdmin.js";

export { ADMIN_OPERATIONS, type AdminOperation } from "../watch/profileAdmin.js";

/** The profile with exactly this key (E_NOT_FOUND otherwise). */
export function profileByKey(store: StateStore, key: string): ProfileSummary {
  const found = store.findProfiles(key).filter((p) => p.key === key);
  if (found.length !== 1) throw new HomeostatError("E_NOT_FOUND", `no profile with key ${JSON.stringify(key)}`);
  return found[0]!;
}

/** Applies `operation` to the profile `key` as `homeostat profiles <operation> KEY` does. */
export function administer(stateDir: string, key: string, operation: AdminOperation): AdminOutcome {
  const store = StateStore.open(stateDir);
  try {
    return administerProfiles(store, [profileByKey(store, key)], operation)[0]!;
  } finally {
    store.close();
  }
}

/** The profile's seccomp allow-list, as `homeostat profiles export --mode MODE` writes it. */
export function seccompExport(store: StateStore, key: string, mode: "enforce" | "log"): SeccompProfile {
  const p = loadStoredProfile(store, key);
  return seccompPolicy(p.syscallsSeen().map(syscallName), mode).profile;
}

/** The learned model of a profile, with its bigrams (pH profiles; null for other models) as syscall names. */
export function learnedModel(
  store: StateStore,
  key: string,
): { profile: LiveProfile; syscalls: string[]; bigrams: [string, string][] | null } {
  const profile = loadStoredProfile(store, key);
  const bigrams =
    profile instanceof PhProfile
      ? profile.pairsAtLag(1).map(([prev, next]): [string, string] => [syscallName(prev), syscallName(next)])
      : null;
  return { profile, syscalls: profile.syscallsSeen().map(syscallName), bigrams };
}

/** A file name for a download, from a program name: letters, digits, dot, dash and underscore only. */
export function downloadName(name: string, suffix: string): string {
  const base = name
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, "")
    .slice(0, 100);
  return `${base === "" ? "profile" : base}${suffix}`;
}
