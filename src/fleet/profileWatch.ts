// The hosts' profile snapshots into the fleet database: a watch of the profiles bucket (every key's latest value
// first, then each change as it is put), each snapshot decoded and checked against its key (`<program>.<host>`),
// then stored with the others of the same moment in one transaction (up to `batchSize`, or what arrived within
// `flushMs`) unless a later revision is stored already, since a restarted watch sees every key again. A deleted or
// purged key removes the host's snapshot. Each program whose snapshots changed is handed on (`onChange`), for
// pooling.

import type { KV, KvWatchEntry } from "@nats-io/kv";
import { HomeostatError } from "../errors.js";
import { parseProfileKey } from "./fleetNames.js";
import type { FleetStore, SnapshotChange } from "./fleetStore.js";
import { decodeSnapshot } from "./profileSnapshot.js";

export interface ProfileWatchOptions {
  /** A host's snapshot of `program` was stored or removed. */
  onChange?: (program: string) => void;
  /** A value that is not a snapshot of the protocol, or one whose header does not match its key. */
  onRejected?: (key: string, err: unknown) => void;
  /** The database refused a batch of snapshots (each key's next change is stored). */
  onError?: (err: unknown) => void;
  batchSize?: number;
  flushMs?: number;
}

export interface ProfileWatchStats {
  /** Puts and deletes received; applied (snapshots newer than the stored one, keys removed); refused. */
  received: number;
  applied: number;
  rejected: number;
}

export class ProfileWatch {
  readonly stats: ProfileWatchStats = { received: 0, applied: 0, rejected: 0 };
  readonly done: Promise<void>;
  private readonly pending: SnapshotChange[] = [];
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly entries: Awaited<ReturnType<KV["watch"]>>,
    private readonly store: FleetStore,
    private readonly options: ProfileWatchOptions,
  ) {
    this.done = this.loop();
  }

  /** Watches every key of the profiles bucket, starting with each one's latest value. */
  static async start(kv: KV, store: FleetStore, options: ProfileWatchOptions = {}): Promise<ProfileWatch> {
    return new ProfileWatch(await kv.watch({ key: ">" }), store, options);
  }

  async stop(): Promise<void> {
    this.entries.stop();
    await this.done;
  }

  private async loop(): Promise<void> {
    try {
      for await (const e of this.entries) this.take(e);
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.flush();
    }
  }

  private take(e: KvWatchEntry): void {
    this.stats.received++;
    try {
      this.pending.push(changeOf(e));
    } catch (err) {
      if (!(err instanceof HomeostatError)) throw err;
      this.stats.rejected++;
      this.options.onRejected?.(e.key, err);
      return;
    }
    if (this.pending.length >= (this.options.batchSize ?? 200)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 100);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    let outcome: { applied: number; programs: string[] };
    try {
      outcome = this.store.applySnapshots(batch);
    } catch (err) {
      this.options.onError?.(err);
      return;
    }
    this.stats.applied += outcome.applied;
    for (const program of outcome.programs) this.options.onChange?.(program);
  }
}

/** The database change an entry asks for; E_PARSE (or E_VERSION) for one that is not of the protocol. */
function changeOf(e: KvWatchEntry): SnapshotChange {
  const { program, host } = parseProfileKey(e.key);
  if (e.operation !== "PUT") return { remove: { program, host } };
  const snapshot = decodeSnapshot(e.value, `profile snapshot ${e.key}`);
  if (snapshot.header.program !== program || snapshot.header.host !== host) {
    throw new HomeostatError(
      "E_PARSE",
      `profile snapshot ${e.key}: its header names ${snapshot.header.program} on ${snapshot.header.host}`,
    );
  }
  return { snapshot, revision: e.revision };
}
