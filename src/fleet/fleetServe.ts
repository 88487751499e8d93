// `homeostat fleet serve` as a library, the central side's composition root: the state directory's writer lock (one
// fleet serve per directory), the fleet database, the NATS connection with the stream, consumer and buckets
// ensured, then the parts, each in its own file: the stream into the database (fleetIngest.ts), the profiles
// bucket into it (profileWatch.ts), pooling (profilePool.ts, with --pool) and the web console (fleetConsole.ts).
// close() stops them in the order that loses nothing: no new requests, no new messages, the last batch stored
// and acknowledged, the connection drained, the database closed, the lock released.

import { mkdirSync } from "node:fs";
import path from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import { HomeostatError } from "../errors.js";
import type { ListenAddress } from "../serve/listenAddress.js";
import { WriterLock } from "../store/writerLock.js";
import { requestAdminOp } from "./adminRequest.js";
import { connectCentral, ensureCentral } from "./centralNats.js";
import { type ListeningConsole, listenFleetConsole } from "./fleetConsole.js";
import type { FleetStatus } from "./fleetConsoleEnv.js";
import { FleetIngest } from "./fleetIngest.js";
import type { PooledRecord } from "./fleetStore.js";
import { FleetStore } from "./fleetStore.js";
import type { FleetConnectFlags } from "./natsOptions.js";
import { ProfilePool } from "./profilePool.js";
import { ProfileWatch } from "./profileWatch.js";

export interface FleetServeOptions {
  nats: FleetConnectFlags;
  stateDir: string;
  /** Where to serve the console; undefined: no console. */
  listen?: ListenAddress;
  token?: string;
  /** Pool the profiles of programs seen on two hosts or more. */
  pool?: boolean;
  /** Replicas of the stream and buckets when this side creates them (default 1). */
  replicas?: number;
  batchSize?: number;
  flushMs?: number;
  poolDebounceMs?: number;
  /** Something failed that the server survives (a batch to be delivered again, a pooling, a console request). */
  onError?: (what: string, err: unknown) => void;
  /** A message or snapshot that is not of the protocol, refused. */
  onRejected?: (what: string, err: unknown) => void;
  onPooled?: (program: string, record: PooledRecord | undefined) => void;
}

export interface RunningFleetServe {
  /** The NATS servers, credentials masked. */
  nats: string;
  dbPath: string;
  /** The console's URL, when it serves one. */
  url: string | undefined;
  status(): FleetStatus;
  close(): Promise<void>;
}

/** The parts' figures, and whether the connection is up (followed through the client's status events). */
function statusOf(
  nc: NatsConnection,
  ingest: FleetIngest,
  watch: ProfileWatch,
  pool: ProfilePool | undefined,
): () => FleetStatus {
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") connected = false;
      else if (s.type === "reconnect") connected = true;
    }
  })();
  return () => ({
    connected: connected && !nc.isClosed(),
    ingest: { ...ingest.stats, ...delayFigures(ingest) },
    profiles: { ...watch.stats },
    pool: pool === undefined ? null : { ...pool.stats },
  });
}

/** The ingest's recent delays as status fields (milliseconds). */
function delayFigures(ingest: FleetIngest): Record<string, number> {
  const d = ingest.delays.figures();
  return { delayedMessages: d.n, delayP50Ms: d.p50, delayP99Ms: d.p99, delayMaxMs: d.max };
}

/** The fleet state directory's lock, or E_LOCKED naming the fleet serve that holds it. */
function lockStateDir(dir: string): WriterLock {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new HomeostatError("E_PERMISSION", `cannot create the state directory: ${(err as Error).message}`, {
      file: dir,
    });
  }
  try {
    return WriterLock.acquire(dir);
  } catch (err) {
    if (err instanceof HomeostatError && err.code === "E_LOCKED") {
      const holder = WriterLock.holder(dir);
      throw new HomeostatError(
        "E_LOCKED",
        `the fleet state directory is in use by another process${holder !== undefined ? ` (pid ${holder.pid})` : ""}; ` +
          `one fleet serve per state directory (--state picks another)`,
        { file: dir },
      );
    }
    throw err;
  }
}

export async function startFleetServe(options: FleetServeOptions): Promise<RunningFleetServe> {
  const dir = path.resolve(options.stateDir);
  const lock = lockStateDir(dir);
  const undo: (() => Promise<void> | void)[] = [() => lock.release()];
  const unwind = async () => {
    for (const u of undo.splice(0).reverse()) await u();
  };
  try {
    const store = FleetStore.open(dir);
    undo.push(() => store.close());
    const { nc, display } = await connectCentral(options.nats);
    // Drained, not just closed, once the consumer has stopped: the last acknowledgements reach the server.
    undo.push(async () => {
      try {
        await nc.drain();
      } catch {
        await nc.close();
      }
    });
    const running = await startParts(nc, store, options, unwind, undo);
    return { ...running, nats: display, dbPath: store.path };
  } catch (err) {
    await unwind();
    throw err;
  }
}

async function startParts(
  nc: NatsConnection,
  store: FleetStore,
  o: FleetServeOptions,
  unwind: () => Promise<void>,
  undo: (() => Promise<void> | void)[],
): Promise<Omit<RunningFleetServe, "nats" | "dbPath">> {
  const buckets = await ensureCentral(nc, o.replicas ?? 1, o.pool === true);
  const pool =
    buckets.pooled === undefined
      ? undefined
      : new ProfilePool(buckets.pooled, store, {
          ...(o.poolDebounceMs !== undefined ? { debounceMs: o.poolDebounceMs } : {}),
          onError: (program, err) => o.onError?.(`pooling ${program}`, err),
          ...(o.onPooled !== undefined ? { onPooled: o.onPooled } : {}),
        });
  if (pool !== undefined) undo.push(() => pool.stop());
  const watch = await ProfileWatch.start(buckets.profiles, store, {
    onChange: (program) => pool?.changed(program),
    onRejected: (key, err) => o.onRejected?.(`profile snapshot ${key}`, err),
    onError: (err) => o.onError?.("storing a profile snapshot", err),
  });
  undo.push(() => watch.stop());
  const ingest = await FleetIngest.start(nc, store, {
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(o.flushMs !== undefined ? { flushMs: o.flushMs } : {}),
    onError: (err) => o.onError?.("storing a batch (it will be delivered again)", err),
    onRejected: (subject, err) => o.onRejected?.(`message on ${subject}`, err),
  });
  undo.push(() => ingest.stop());
  void pool?.poolAll();
  const status = statusOf(nc, ingest, watch, pool);
  let web: ListeningConsole | undefined;
  if (o.listen !== undefined) {
    web = await listenFleetConsole(
      {
        store,
        status,
        admin: (program, op) => requestAdminOp(buckets.admin, program, op),
        ...(o.token !== undefined ? { token: o.token } : {}),
        onError: (err) => o.onError?.("serving a console request", err),
      },
      o.listen,
    );
    undo.push(() => web!.close());
  }
  let closing: Promise<void> | undefined;
  return { url: web?.url, status, close: () => (closing ??= unwind()) };
}
