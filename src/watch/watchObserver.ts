// Observers of a watch: layers above watch (the fleet, src/fleet) see what it does without watch knowing them.
// Watch hands each observer its alerts (with the JSON made once for every output), its actions, the profiles it
// takes on and saves, a tick on its poll timer, and closes them at its end, after the final save and before the
// state directory's lock is released (an observer may keep a spool there). Observers must not throw on these
// paths (the engine's turn): they queue what they need and do their I/O asynchronously.

import type { HostAlert, HostMonitor } from "../engine/hostMonitor.js";
import type { ProfileEntry } from "../engine/profileEntry.js";
import type { ResponseAction } from "../response/responder.js";
import type { ProfileRecord } from "../store/stateStore.js";

/** A profile just written to the store: its entry, the record written (with its blob) and its new version. */
export interface SavedProfile {
  entry: ProfileEntry;
  record: ProfileRecord;
  version: number;
}

export interface WatchObserver {
  /** The observer's name: its figures go under it in the watch's summary. */
  readonly name: string;
  /** The watch has started: its engine, for reading counters and profiles (and replacing them). */
  attach?(monitor: HostMonitor): void;
  alert?(alert: HostAlert, json: string): void;
  action?(action: ResponseAction): void;
  /** A profile entry is held (loaded from the store: storedVersion > 0, or new: 0). */
  profileAdded?(entry: ProfileEntry): void;
  profilesSaved?(saved: readonly SavedProfile[]): void;
  /** On watch's poll timer (every 2 s by default), and once at the end with `final`. */
  tick?(final: boolean): void;
  /** What it did, for the summary. */
  figures?(): unknown;
  /** Sends what it can within `drainMs`, then lets go of everything (the spool keeps the rest). */
  close?(drainMs: number): Promise<void>;
}

/** The observers of one watch, called in order. */
export class WatchObservers {
  constructor(private readonly list: readonly WatchObserver[]) {}

  /** Some observer wants alerts (the alert's JSON is worth making). */
  get wantsAlerts(): boolean {
    return this.list.some((o) => o.alert !== undefined);
  }

  attach(monitor: HostMonitor): void {
    for (const o of this.list) o.attach?.(monitor);
  }

  alert(alert: HostAlert, json: string): void {
    for (const o of this.list) o.alert?.(alert, json);
  }

  action(action: ResponseAction): void {
    for (const o of this.list) o.action?.(action);
  }

  profileAdded(entry: ProfileEntry): void {
    for (const o of this.list) o.profileAdded?.(entry);
  }

  profilesSaved(saved: readonly SavedProfile[]): void {
    if (saved.length > 0) for (const o of this.list) o.profilesSaved?.(saved);
  }

  tick(final = false): void {
    for (const o of this.list) o.tick?.(final);
  }

  figures(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const o of this.list) if (o.figures !== undefined) out[o.name] = o.figures();
    return out;
  }

  /** Closes every observer, even when one fails; the first failure is thrown after. */
  async close(drainMs: number): Promise<void> {
    let failure: unknown;
    for (const o of this.list) {
      try {
        await o.close?.(drainMs);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }
}
