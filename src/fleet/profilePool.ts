// `fleet serve --pool`: for each program whose snapshots come from two hosts or more, the merged profile
// (profileMerge.ts) published to the pooled bucket under the program's key, as a snapshot of host "_pool" that a
// watch restores as it would its own profile. A change of a host's snapshot schedules the program again; pooling
// waits `debounceMs` from the first change (never postponed by later ones, so that hosts updating every few
// seconds cannot starve it) and is skipped when the snapshots merged are the very ones merged last time. A program
// left on fewer than two hosts loses its pooled key.

import type { KV } from "@nats-io/kv";
import { HomeostatError } from "../errors.js";
import { POOL_HOST } from "./fleetNames.js";
import type { FleetStore, PooledRecord } from "./fleetStore.js";
import { commonPath, mergeSnapshots, poolGroup } from "./profileMerge.js";
import { encodeSnapshot } from "./profileSnapshot.js";

export interface PoolOptions {
  /** Milliseconds from a program's first change to its pooling (default 5000). */
  debounceMs?: number;
  /** Epoch milliseconds (tests fix it). */
  now?: () => number;
  /** A program pooled (or its pooled key removed: record undefined). */
  onPooled?: (program: string, record: PooledRecord | undefined) => void;
  onError?: (program: string, err: unknown) => void;
}

export class ProfilePool {
  /** Poolings published, and skipped as unchanged. */
  readonly stats = { pooled: 0, unchanged: 0, removed: 0, failed: 0 };
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly debounceMs: number;
  private readonly now: () => number;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly store: FleetStore,
    private readonly options: PoolOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 5000;
    this.now = options.now ?? Date.now;
  }

  /** A host's snapshot of `program` changed: pool it once the debounce has passed. */
  changed(program: string): void {
    if (this.stopped || this.timers.has(program)) return;
    this.timers.set(
      program,
      setTimeout(() => {
        this.timers.delete(program);
        void this.run(program);
      }, this.debounceMs),
    );
  }

  /** Pools every program seen on two hosts or more now (at start, after the watch has caught up). */
  async poolAll(): Promise<void> {
    await Promise.all(this.store.programsOnHosts(2).map((p) => this.run(p)));
  }

  /** Pools what is scheduled now, waits for poolings under way, and accepts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    const scheduled = [...this.timers.keys()];
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(scheduled.map((p) => this.run(p, true)));
    await Promise.all([...this.running.values()]);
  }

  /** One pooling of `program` at a time; a change during one runs it again afterwards. */
  private async run(program: string, force = false): Promise<void> {
    const current = this.running.get(program);
    if (current !== undefined) {
      this.again.add(program);
      return current;
    }
    const task = this.poolOnce(program)
      .catch((err: unknown) => {
        this.stats.failed++;
        this.options.onError?.(program, err);
      })
      .finally(() => {
        this.running.delete(program);
        if (this.again.delete(program) && (!this.stopped || force)) void this.run(program);
      });
    this.running.set(program, task);
    return task;
  }

  private async poolOnce(program: string): Promise<void> {
    const group = poolGroup(this.store.snapshotsOf(program));
    const last = this.store.pooled(program);
    const merged = group.length >= 2 ? mergeSnapshots(group, this.now() / 1000) : undefined;
    if (merged === undefined) {
      if (last === undefined) return;
      await this.kv.delete(program);
      this.store.deletePooled(program);
      this.stats.removed++;
      this.options.onPooled?.(program, undefined);
      return;
    }
    const hosts = merged.merged.map((s) => s.host);
    const sources = merged.merged.map((s) => s.revision);
    if (last !== undefined && sameList(last.hosts, hosts) && sameList(last.sources, sources)) {
      this.stats.unchanged++;
      return;
    }
    const p = merged.profile;
    const time = this.now();
    const version = (last?.version ?? 0) + 1;
    const value = encodeSnapshot(
      {
        v: 1,
        host: POOL_HOST,
        program,
        path: commonPath(merged.merged),
        model: p.model,
        state: p.state,
        trainCount: p.trainCount,
        version,
        time,
      },
      p.serialize(),
    );
    const revision = await this.kv.put(program, value);
    const record = { program, model: p.model, state: p.state, hosts, sources, trainCount: p.trainCount, version };
    const stored = { ...record, time: time / 1000, revision };
    this.store.savePooled(stored);
    this.stats.pooled++;
    this.options.onPooled?.(program, stored);
    if (merged.unreadable.length > 0) {
      const which = merged.unreadable.map((u) => `${u.host}: ${u.reason}`).join("; ");
      throw new HomeostatError("E_PARSE", `pooled ${program} without the snapshots it could not read (${which})`);
    }
  }
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
