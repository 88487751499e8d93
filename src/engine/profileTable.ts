// The host monitor's profiles: one entry per executable, keyed by path, device and inode (exeKey), loaded from the
// store or created on first sight, at most `maxProfiles` of them. The lifecycle settings of the run (one object,
// shared with the monitor and its alerts) apply to every profile held, loaded ones too, and change together when
// the watch reloads its settings.

import { type ExeIdentity, exeKey } from "../capture/hostEvents.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import { validateSettings } from "../lifecycle/lifecycleSettings.js";
import { PhProfile, type LifecycleSettings } from "../lifecycle/phProfile.js";
import type { HostMonitorOptions, StaticCheckMode } from "./hostMonitorOptions.js";
import type { ProfileEntry } from "./profileEntry.js";
import { HOST_SYMBOLS, StaticCheck } from "./staticCheck.js";

export class ProfileTable {
  private readonly entries = new Map<string, ProfileEntry>();
  /** The same entries by `dev:ino`, for an exec whose path is only known relative (the process ended first). */
  private readonly byInode = new Map<string, ProfileEntry>();

  constructor(
    private readonly settings: LifecycleSettings,
    private readonly options: HostMonitorOptions,
    private readonly maxProfiles: number,
    private readonly staticMode: StaticCheckMode | undefined,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): ProfileEntry | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<ProfileEntry> {
    return this.entries.values();
  }

  /** The entry of an executable, loading or creating its profile; null past maxProfiles (the caller counts it). */
  entryFor(exe: ExeIdentity): ProfileEntry | null {
    const key = exeKey(exe);
    let entry = this.entries.get(key);
    if (entry !== undefined) return entry;
    const inode = `${exe.dev}:${exe.ino}`;
    if (exe.ino !== 0 && !exe.path.startsWith("/")) {
      // `./prog` run by a process that was gone before its path could be read: the file is the one we know.
      entry = this.byInode.get(inode);
      if (entry !== undefined) return entry;
    }
    if (this.entries.size >= this.maxProfiles) return null;
    const stored = this.options.loadProfile?.(key, exe);
    let profile: LiveProfile;
    if (stored !== undefined) {
      profile = stored.profile;
      this.applySettings(profile);
    } else profile = this.options.createProfile?.({ ...this.settings }) ?? new PhProfile(HOST_SYMBOLS, this.settings);
    entry = {
      key,
      exe,
      profile,
      dirty: stored === undefined,
      tasks: 0,
      storedVersion: stored?.version ?? 0,
      static: this.staticMode !== undefined ? new StaticCheck() : null,
      staticError: null,
    };
    this.entries.set(key, entry);
    if (exe.ino !== 0 && (exe.path.startsWith("/") || !this.byInode.has(inode))) this.byInode.set(inode, entry);
    this.options.onProfileAdded?.(entry);
    return entry;
  }

  /** Replaces a held profile (an administrator changed it in the store); tasks keep their sequences. */
  replace(key: string, profile: LiveProfile, version: number): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.applySettings(profile);
    entry.profile = profile;
    entry.storedVersion = version;
    entry.dirty = false;
    return true;
  }

  /** New lifecycle settings for the run and every profile held (see HostMonitor.updateSettings). */
  updateSettings(settings: Partial<Omit<LifecycleSettings, "lookahead" | "frame">>): void {
    const next = validateSettings({ ...this.settings, ...settings });
    this.settings.normalFactor = next.normalFactor;
    this.settings.normalFactorDen = next.normalFactorDen;
    this.settings.normalWait = next.normalWait;
    this.settings.anomalyLimit = next.anomalyLimit;
    this.settings.tolerizeLimit = next.tolerizeLimit;
    for (const e of this.entries.values()) this.applySettings(e.profile);
  }

  /** The lifecycle settings of this run apply to loaded profiles too (the table layout stays the profile's own). */
  private applySettings(profile: LiveProfile): void {
    const s = profile.settings;
    s.normalFactor = this.settings.normalFactor;
    s.normalFactorDen = this.settings.normalFactorDen;
    s.normalWait = this.settings.normalWait;
    s.anomalyLimit = this.settings.anomalyLimit;
    s.tolerizeLimit = this.settings.tolerizeLimit;
  }
}
