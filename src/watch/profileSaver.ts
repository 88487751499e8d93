// Saving a watch's live profiles to the state store: periodically and at the end, only the profiles that changed,
// each written only where the store still holds the version this watch last knew, so that a change an administrator
// made meanwhile (`homeostat profiles normalize ...`) wins and is loaded instead of being overwritten. A full disk
// does not stop watching: what changed stays in memory for the next save, with one alert when saves stop and one
// when they resume; the failed transaction is rolled back whole, so nothing saved before is touched.

import type { HostMonitor } from "../engine/hostMonitor.js";
import type { ProfileEntry } from "../engine/profileEntry.js";
import { HomeostatError, isHomeostatError } from "../errors.js";
import type { StateStore } from "../store/stateStore.js";
import { profileRecord, restoreProfile } from "./storedProfiles.js";
import type { SavedProfile } from "./watchObserver.js";

export interface ProfileSaverOptions {
  store: StateStore;
  monitor: HostMonitor;
  /** Keys of stored profiles that could not be read: never overwritten. */
  unreadable: ReadonlySet<string>;
  /** Newest alerts and actions kept in the store. */
  keepRecords: number;
  /** Writes the alerts, actions and models queued for the store (after the profiles, in the same save). */
  flushRecords: () => void;
  /** The profiles this save wrote (not those an administrator's change won over), with their new versions. */
  onSaved?: (saved: SavedProfile[]) => void;
  onSave?: (profiles: number, ms: number) => void;
  onWarning?: (message: string) => void;
}

export class ProfileSaver {
  /** Profile saves (transactions) and profiles written. */
  saves = 0;
  profilesSaved = 0;
  /** Profiles that an administrator changed while watch ran, reloaded. */
  reloaded = 0;
  private diskFull = false;

  constructor(private readonly options: ProfileSaverOptions) {}

  /** Profiles an administrator changed in the store since we loaded or saved them: reload instead of overwriting. */
  pickUpAdminChanges(): void {
    const { store, monitor, unreadable } = this.options;
    for (const s of store.listProfiles()) {
      const entry = monitor.profile(s.key);
      if (entry === undefined || s.version <= entry.storedVersion || unreadable.has(s.key)) continue;
      try {
        const stored = store.loadProfile(s.key);
        if (stored === undefined) continue;
        monitor.replaceProfile(s.key, restoreProfile(stored.model, stored.blob, `profile ${s.key}`), stored.version);
        this.reloaded++;
      } catch (err) {
        if (!isHomeostatError(err)) throw err;
        this.options.onWarning?.(`stored profile ${s.key} changed but cannot be read: ${err.oneLine()}`);
      }
    }
  }

  /** Writes the changed profiles and the queued records, and prunes old records. */
  save(): void {
    const t0 = performance.now();
    const dirty = this.dirtyProfiles();
    if (dirty.length > 0) this.write(dirty);
    this.options.flushRecords();
    this.options.store.prune(this.options.keepRecords);
    this.options.onSave?.(dirty.length, performance.now() - t0);
  }

  /** A save on the timer: a full disk raises one alert (and another when saves resume) instead of ending watch. */
  periodic(): void {
    try {
      this.save();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (!this.diskFull) this.raiseDiskFull();
      this.diskFull = true;
      return;
    }
    if (!this.diskFull) return;
    this.diskFull = false;
    const state = this.options.store.path;
    this.options.monitor.raise(
      "homeostat store saves resumed",
      "Informational",
      `the state database has room again: every profile is saved (${state})`,
      { "homeostat.state": state },
      ["store"],
    );
  }

  /** The save at the end of watch: a full disk is an error that says what was not saved. */
  final(): void {
    try {
      this.save();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const unsaved = this.dirtyCount();
      throw new HomeostatError(
        "E_IO",
        `the disk is full: ${unsaved} profile${unsaved === 1 ? "" : "s"} changed since the last save could not be saved; everything saved before is intact`,
        { file: this.options.store.path },
        { cause: err },
      );
    }
  }

  private dirtyProfiles(): ProfileEntry[] {
    const dirty: ProfileEntry[] = [];
    for (const e of this.options.monitor.profiles()) if (e.dirty && !this.options.unreadable.has(e.key)) dirty.push(e);
    return dirty;
  }

  private dirtyCount(): number {
    return [...this.options.monitor.profiles()].filter((e) => e.dirty).length;
  }

  /** Writes profiles where the store still has the version we know (checked inside the transaction). */
  private write(dirty: ProfileEntry[]): void {
    const records = dirty.map((e) => ({ ...profileRecord(e.key, e.exe, e.profile), expectVersion: e.storedVersion }));
    const conflicts = new Set(this.options.store.saveProfiles(records));
    const saved: SavedProfile[] = [];
    dirty.forEach((e, i) => {
      if (conflicts.has(e.key)) return;
      e.dirty = false;
      e.storedVersion++;
      saved.push({ entry: e, record: records[i]!, version: e.storedVersion });
    });
    this.saves++;
    this.profilesSaved += dirty.length - conflicts.size;
    if (conflicts.size > 0) this.pickUpAdminChanges();
    this.options.onSaved?.(saved);
  }

  private raiseDiskFull(): void {
    const unsaved = this.dirtyCount();
    const state = this.options.store.path;
    this.options.monitor.raise(
      "homeostat store full: profiles not saved",
      "Error",
      `the state database's disk is full (${state}): ${unsaved} profile${unsaved === 1 ? "" : "s"} changed since the last save ${unsaved === 1 ? "is" : "are"} kept in memory and saved when there is room; nothing saved before is lost`,
      { "homeostat.unsaved_profiles": unsaved, "homeostat.state": state },
      ["store"],
    );
  }
}

/** The store's "disk is full" (SQLITE_FULL under it). */
function isDiskFull(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return isHomeostatError(err) && cause?.code === "SQLITE_FULL";
}
