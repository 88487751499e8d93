// pH-admin's operations on stored profiles (normalize, tolerize, sensitize, reset), as `homeostat profiles <op>` and
// the web console's forms both carry them out: each profile is loaded from the store, changed, and saved as a new
// version with the operation as the cause of its history row. No writer lock is taken: the saves are one IMMEDIATE
// transaction beside the running watch's, which sees the new version at its next poll (profileSaver.ts,
// pickUpAdminChanges) and loads it instead of overwriting it.

import { HomeostatError } from "../errors.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import type { ProfileSummary, StateStore } from "../store/stateStore.js";
import { profileRecord, restoreProfile } from "./storedProfiles.js";

/** pH-admin's operations on a profile. */
export type AdminOperation = "normalize" | "tolerize" | "sensitize" | "reset";

export const ADMIN_OPERATIONS: readonly AdminOperation[] = ["normalize", "tolerize", "sensitize", "reset"];

const ADMIN: Readonly<Record<AdminOperation, (p: LiveProfile) => void>> = {
  normalize: (p) => p.normalize(),
  tolerize: (p) => p.tolerize(),
  sensitize: (p) => p.sensitize(),
  reset: (p) => p.reset(),
};

/** One profile's change: its key and its state before and after. */
export interface AdminOutcome {
  key: string;
  operation: AdminOperation;
  before: string;
  after: string;
}

/** The stored profile `key`'s model (E_NOT_FOUND when it is gone). */
export function loadStoredProfile(store: StateStore, key: string): LiveProfile {
  const stored = store.loadProfile(key);
  if (stored === undefined) throw new HomeostatError("E_NOT_FOUND", `profile ${key} vanished from ${store.path}`);
  return restoreProfile(stored.model, stored.blob, `profile ${key} in ${store.path}`);
}

/** Applies `operation` to every target and saves them all in one transaction (a writable store). */
export function administerProfiles(
  store: StateStore,
  targets: readonly ProfileSummary[],
  operation: AdminOperation,
): AdminOutcome[] {
  const changed = targets.map((t) => {
    const p = loadStoredProfile(store, t.key);
    ADMIN[operation](p);
    const record = profileRecord(t.key, { path: t.exe, dev: t.dev, ino: t.ino }, p);
    return { before: t.state, record: { ...record, cause: operation } };
  });
  store.saveProfiles(changed.map((c) => c.record));
  return changed.map((c) => ({ key: c.record.key, operation, before: c.before, after: c.record.state }));
}
