// A host's profiles in the fleet: after each save, the profiles written are put as snapshots in the profiles
// bucket under `<program>.<host>` (the newest per profile waits in memory while the fleet is away: a later save
// supersedes an earlier one, so nothing older needs spooling); and, with `--fleet-profiles pull`, a program this
// host has no stored profile for starts from the fleet's pooled snapshot of it (trained, frozen or normal as
// pooled) instead of from nothing. Program identities (programIdentity.ts) are worked out off the engine's turn.
// A profile started from the pool says so in its snapshots (`base`), for as long as it holds what it took (a reset
// or sensitize empties it), so that the pool never merges its own data back; after a restart, that is read back
// from the profile's previous snapshot in the bucket before the next one is put.

import type { KV } from "@nats-io/kv";
import type { ProfileEntry } from "../engine/profileEntry.js";
import type { HostMonitor } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import { restoreProfile } from "../watch/storedProfiles.js";
import type { SavedProfile } from "../watch/watchObserver.js";
import { POOLED_BUCKET, profileKey } from "./fleetNames.js";
import type { FleetSession } from "./fleetLink.js";
import { decodeSnapshot, encodeSnapshot, type PoolBase, type SnapshotHeader } from "./profileSnapshot.js";
import type { ProgramIdentities } from "./programIdentity.js";

const RANK = { training: 0, frozen: 1, normal: 2 } as const;

export interface FleetProfilesOptions {
  host: string;
  identities: ProgramIdentities;
  /** Start new programs from the pooled snapshot. */
  pull: boolean;
  clock?: () => number;
  /** A program's identity became known (for the admin operations). */
  onIdentified?: (entry: ProfileEntry, program: string) => void;
  onMessage?: (line: string) => void;
}

export interface FleetProfileStats {
  /** Snapshots put in the profiles bucket, failed puts, and those waiting for the fleet. */
  snapshotsPut: number;
  snapshotFailures: number;
  /** Snapshots not put because the server's max_payload is smaller (the run's message says what to change). */
  snapshotsTooLarge: number;
  snapshotsWaiting: number;
  /** New profiles started from a pooled snapshot; asked but none pooled (or not usable). */
  pulled: number;
  pullMisses: number;
  /** Profiles whose program could not be identified (binary gone or replaced). */
  unidentified: number;
}

export class FleetProfiles {
  private monitor: HostMonitor | undefined;
  private session: FleetSession | undefined;
  /** The newest snapshot of each profile not yet in the bucket, by its bucket key. */
  private readonly unsent = new Map<string, PendingSnapshot>();
  /** The pooled profile each profile started from, by the profile's key in the store; and its last trained count. */
  private readonly bases = new Map<string, PoolBase & { lastTrainCount: number }>();
  /** Profiles loaded from the store whose previous snapshot has not been read for its base yet. */
  private readonly unchecked = new Set<string>();
  private readonly putting = new Set<string>();
  /** The newest version taken per profile (sent or waiting), by the profile's key in the store. */
  private readonly newest = new Map<string, number>();
  /** New profiles waiting for a session to ask the pool about. */
  private readonly pullLater = new Map<ProfileEntry, string>();
  private readonly counts = {
    snapshotsPut: 0,
    snapshotFailures: 0,
    snapshotsTooLarge: 0,
    pulled: 0,
    pullMisses: 0,
    unidentified: 0,
  };
  /** Profiles whose snapshot was too large for the server, said once each. */
  private readonly toldTooLarge = new Set<string>();
  private readonly clock: () => number;
  /** Identifications and pulls under way (tests and the end wait for them). */
  private readonly work = new Set<Promise<void>>();

  constructor(private readonly options: FleetProfilesOptions) {
    this.clock = options.clock ?? Date.now;
  }

  attach(monitor: HostMonitor): void {
    this.monitor = monitor;
  }

  get stats(): FleetProfileStats {
    return { ...this.counts, snapshotsWaiting: this.unsent.size };
  }

  up(session: FleetSession): void {
    this.session = session;
    this.flush();
    const later = [...this.pullLater];
    this.pullLater.clear();
    for (const [entry, program] of later) this.track(this.pull(entry, program));
  }

  down(): void {
    this.session = undefined;
  }

  /** A profile is held: its program identified; a new one (never stored) may start from the pool. */
  added(entry: ProfileEntry): void {
    // New or loaded is decided now: a save while the file is identified (hashing a large binary takes a while)
    // gives the new profile a stored version, and it would then never ask the pool.
    const fresh = entry.storedVersion === 0;
    if (!fresh) this.unchecked.add(entry.key);
    this.track(
      (async () => {
        const program = await this.options.identities.identify(entry.exe);
        if (program === undefined) {
          this.counts.unidentified++;
          return;
        }
        this.options.onIdentified?.(entry, program);
        if (this.options.pull && fresh) await this.pull(entry, program);
      })(),
    );
  }

  /** Profiles were saved: their snapshots go to the bucket. */
  saved(saved: readonly SavedProfile[]): void {
    for (const s of saved) {
      this.track(
        (async () => {
          const program = await this.options.identities.identify(s.entry.exe);
          if (program === undefined) return;
          const r = s.record;
          const header: SnapshotHeader = {
            v: 1,
            host: this.options.host,
            program,
            path: r.exe,
            model: r.model,
            state: r.state,
            trainCount: r.trainCount,
            version: s.version,
            time: this.clock(),
          };
          // Identifications finish in any order: a snapshot older than one already taken is not sent.
          if ((this.newest.get(s.entry.key) ?? 0) >= s.version) return;
          this.newest.set(s.entry.key, s.version);
          this.unsent.set(profileKey(program, this.options.host), { header, blob: r.blob, entryKey: s.entry.key });
          this.flush();
        })(),
      );
    }
  }

  /** Waits for identifications, pulls and puts under way. */
  async settle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /**
   * Puts the waiting snapshots (one put per key at a time; a newer snapshot waits for the one under way). A failed
   * put waits for the next save or session, never retried at once: a put that fails every time (a server that
   * refuses it) would otherwise spin the engine's thread.
   */
  private flush(): void {
    const session = this.session;
    const kv = session?.profiles;
    if (session === undefined || kv === undefined) return;
    for (const [key, pending] of this.unsent) {
      if (this.putting.has(key)) continue;
      this.unsent.delete(key);
      this.putting.add(key);
      let failed = false;
      this.track(
        this.put(session, kv, key, pending).then(
          (put) => {
            if (put) this.counts.snapshotsPut++;
          },
          () => {
            failed = true;
            this.counts.snapshotFailures++;
            // Kept for the next session unless a newer one came meanwhile.
            if (!this.unsent.has(key)) this.unsent.set(key, pending);
          },
        ),
        () => {
          this.putting.delete(key);
          if (!failed && this.session === session && this.unsent.has(key)) this.flush();
        },
      );
    }
  }

  /**
   * Puts one snapshot, with its base (read back from the bucket first for a profile loaded from the store). A
   * snapshot larger than the server takes in one message is not put (false), and said once per profile.
   */
  private async put(session: FleetSession, kv: KV, key: string, pending: PendingSnapshot): Promise<boolean> {
    if (this.unchecked.has(pending.entryKey)) {
      const previous = (await kv.get(key))?.value;
      this.unchecked.delete(pending.entryKey);
      const base = previous === undefined || previous.length === 0 ? undefined : baseIn(previous);
      if (base !== undefined && !this.bases.has(pending.entryKey)) {
        this.bases.set(pending.entryKey, { ...base, lastTrainCount: base.trainCount });
      }
    }
    const base = this.baseOf(pending.entryKey, pending.header.trainCount);
    const header = base === undefined ? pending.header : { ...pending.header, base };
    const value = encodeSnapshot(header, pending.blob);
    const limit = snapshotLimit(session);
    if (value.length > limit) {
      this.counts.snapshotsTooLarge++;
      if (!this.toldTooLarge.has(pending.entryKey)) {
        this.toldTooLarge.add(pending.entryKey);
        this.options.onMessage?.(
          `fleet: the profile of ${header.path} (${value.length} bytes) is larger than the fleet server takes in ` +
            `one message (max_payload ${limit + PUT_OVERHEAD_BYTES} bytes): its snapshots are not put; raise ` +
            `max_payload in the server's configuration (docs/fleet.md, "Limits")`,
        );
      }
      return false;
    }
    await kv.put(key, value);
    return true;
  }

  /** The base of a profile that still holds it: fewer trained calls than before means its training was emptied. */
  private baseOf(entryKey: string, trainCount: number): PoolBase | undefined {
    const base = this.bases.get(entryKey);
    if (base === undefined) return undefined;
    if (trainCount < base.trainCount || trainCount < base.lastTrainCount) {
      this.bases.delete(entryKey);
      return undefined;
    }
    base.lastTrainCount = trainCount;
    return { version: base.version, trainCount: base.trainCount };
  }

  /** Asks the pool for `program`; a usable snapshot replaces the new profile (still training, same model). */
  private async pull(entry: ProfileEntry, program: string): Promise<void> {
    const kv = this.session?.pooled;
    if (kv === undefined) {
      if (this.session === undefined) this.pullLater.set(entry, program);
      return;
    }
    let value: Uint8Array | undefined;
    try {
      value = (await kv.get(program))?.value;
    } catch {
      this.pullLater.set(entry, program);
      return;
    }
    if (value === undefined || value.length === 0) {
      this.counts.pullMisses++;
      return;
    }
    this.adopt(entry, program, value);
  }

  private adopt(entry: ProfileEntry, program: string, value: Uint8Array): void {
    const monitor = this.monitor;
    try {
      const { header, blob } = decodeSnapshot(value, `${POOLED_BUCKET} ${program}`);
      const live = entry.profile;
      // The pool's is taken when it is further along than this host's (which is not normal yet), or as far and
      // trained on more calls: a host that has already learned its program keeps its own profile.
      const ahead = RANK[header.state] - RANK[live.state];
      const better = ahead > 0 || (ahead === 0 && header.trainCount > live.trainCount);
      if (monitor?.profile(entry.key) !== entry || live.state === "normal" || header.model !== live.model || !better) {
        this.counts.pullMisses++;
        return;
      }
      const pooled = restoreProfile(header.model, blob, `${POOLED_BUCKET} ${program}`);
      monitor.replaceProfile(entry.key, pooled, entry.storedVersion);
      this.bases.set(entry.key, { version: header.version, trainCount: header.trainCount, lastTrainCount: 0 });
      // Saved at the next save, as this host's own from now on.
      entry.dirty = true;
      this.counts.pulled++;
      this.options.onMessage?.(
        `fleet: ${entry.exe.path} starts from the fleet's pooled profile (${pooled.state}, ${header.trainCount} calls trained)`,
      );
    } catch (err) {
      if (!isHomeostatError(err)) throw err;
      this.counts.pullMisses++;
      this.options.onMessage?.(`fleet: the pooled profile of ${entry.exe.path} cannot be used: ${err.oneLine()}`);
    }
  }

  private track(p: Promise<unknown>, then?: () => void): void {
    const done = p.then(
      () => then?.(),
      () => then?.(),
    );
    this.work.add(done);
    void done.finally(() => this.work.delete(done));
  }
}

/** Room left in a message for the KV put's subject and headers. */
const PUT_OVERHEAD_BYTES = 1024;

/** The largest snapshot this session's server takes (NATS's default max_payload, 1 MiB, before it says). */
function snapshotLimit(session: FleetSession): number {
  return (session.nc.info?.max_payload ?? 1024 * 1024) - PUT_OVERHEAD_BYTES;
}

interface PendingSnapshot {
  header: SnapshotHeader;
  blob: Uint8Array;
  /** The profile's key in the store. */
  entryKey: string;
}

/** The base a previous snapshot of this host's recorded; none when it cannot be read (it is replaced anyway). */
function baseIn(bytes: Uint8Array): PoolBase | undefined {
  try {
    return decodeSnapshot(bytes).header.base;
  } catch (err) {
    if (!isHomeostatError(err)) throw err;
    return undefined;
  }
}
