// The normal workload for the demo target (demo/kvserver.c): N sessions, one connection each, that exercise every
// legitimate code path (SET, GET hit and miss, DEL hit and miss, LIST, ECHO, STATS, SAVE, LOAD with and without a
// saved store, BLOB with lengths 0..63, malformed commands, QUIT or a plain disconnect) in varied orders with varied
// keys and value sizes. Coverage matters more than volume: as Jalaly notes, most false positives of a model of
// normal behaviour are gaps in its training data. Deterministic for a given seed (SeededRandom, mulberry32).
// Every reply is checked against a model of the server's state, so the workload doubles as a protocol test.

import { SeededRandom } from "../models/random.js";
import { DemoConnection } from "./demoConnection.js";

export const COMMAND_KINDS = [
  "SET",
  "GET",
  "DEL",
  "LIST",
  "ECHO",
  "STATS",
  "SAVE",
  "LOAD",
  "BLOB",
  "QUIT",
  "ERR",
] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export interface NormalWorkloadOptions {
  port: number;
  host?: string;
  sessions: number;
  seed: number;
  /** Commands per session, drawn uniformly from [min, max]; default 3..30. */
  minCommands?: number;
  maxCommands?: number;
}

export interface NormalWorkloadReport {
  sessions: number;
  commands: number;
  /** How often each kind of command was sent. */
  counts: Record<CommandKind, number>;
  /** Replies that differ from what the model of the server predicts (empty when the server is correct). */
  mismatches: string[];
}

const MAX_VALUE = 1024;
const BLOB_LIMIT = 63; // legitimate notes fit the 64-byte buffer with their NUL

/** FNV-1a 32-bit, as blob_digest in kvserver.c. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h >>> 0;
}

function printable(rng: SeededRandom, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(0x20 + rng.nextInt(0x5f));
  return s;
}

function keyOf(rng: SeededRandom): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  let s = "";
  const n = 1 + rng.nextInt(rng.next() < 0.1 ? 32 : 12);
  for (let i = 0; i < n; i++) s += alphabet[rng.nextInt(alphabet.length)];
  return s;
}

/** Value lengths spread over small, medium and near-limit sizes, so allocation paths vary too. */
function valueLength(rng: SeededRandom): number {
  const r = rng.next();
  if (r < 0.5) return 1 + rng.nextInt(16);
  if (r < 0.85) return 17 + rng.nextInt(200);
  return 217 + rng.nextInt(MAX_VALUE - 216);
}

function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  return items[rng.nextInt(items.length)]!;
}

const WEIGHTS: readonly [CommandKind, number][] = [
  ["SET", 26],
  ["GET", 18],
  ["DEL", 8],
  ["LIST", 6],
  ["ECHO", 8],
  ["STATS", 5],
  ["SAVE", 5],
  ["LOAD", 5],
  ["BLOB", 12],
  ["ERR", 3],
];
const WEIGHT_TOTAL = WEIGHTS.reduce((s, [, w]) => s + w, 0);

function drawKind(rng: SeededRandom): CommandKind {
  let r = rng.nextInt(WEIGHT_TOTAL);
  for (const [kind, w] of WEIGHTS) {
    if (r < w) return kind;
    r -= w;
  }
  return "ECHO";
}

/** One session's view of the workload: its connection, the store it expects the server to hold, what it found. */
interface Session {
  readonly index: number;
  readonly conn: DemoConnection;
  readonly rng: SeededRandom;
  readonly keyPool: readonly string[];
  readonly store: Map<string, string>;
  readonly mismatches: string[];
  /** Commands this connection has sent (the server's STATS counts them). */
  served: number;
  /** The store as last saved, shared by every session (SAVE/LOAD use one file). */
  saved: { map: Map<string, string> | undefined };
}

/** Runs the workload sequentially (SAVE/LOAD share one file, so the model needs a known order). */
export async function runNormalWorkload(options: NormalWorkloadOptions): Promise<NormalWorkloadReport> {
  const { port, host = "127.0.0.1", sessions, seed, minCommands = 3, maxCommands = 30 } = options;
  const rng = new SeededRandom(seed);
  const counts = Object.fromEntries(COMMAND_KINDS.map((k) => [k, 0])) as Record<CommandKind, number>;
  const mismatches: string[] = [];
  const keyPool = Array.from({ length: 40 }, () => keyOf(rng));
  const saved = { map: undefined as Map<string, string> | undefined };
  let commands = 0;
  for (let s = 0; s < sessions; s++) {
    const conn = await DemoConnection.connect(port, host);
    const session: Session = { index: s, conn, rng, keyPool, store: new Map(), mismatches, served: 0, saved };
    const n = minCommands + rng.nextInt(maxCommands - minCommands + 1);
    try {
      for (let c = 0; c < n; c++) {
        // A third of the sessions start from the saved store, as a client resuming work would.
        const kind: CommandKind = c === 0 && rng.next() < 0.33 ? "LOAD" : drawKind(rng);
        counts[kind]++;
        commands++;
        session.served++;
        await COMMANDS[kind](session);
      }
      // Most clients say goodbye; some just hang up, which the server must handle the same way.
      if (rng.next() < 0.85) {
        counts.QUIT++;
        commands++;
        conn.send("QUIT\n");
        await expectLine(session, "QUIT", "BYE");
        await conn.waitClosed();
      }
    } finally {
      conn.close();
    }
  }
  return { sessions, commands, counts, mismatches };
}

async function expectLine(session: Session, what: string, expected: string): Promise<string> {
  const got = await session.conn.readLine();
  if (got !== expected) {
    session.mismatches.push(
      `session ${session.index}: ${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`,
    );
  }
  return got;
}

/** A key the session stored (mostly), or one from the pool. */
function someKey(session: Session): string {
  const { rng, store } = session;
  return store.size > 0 && rng.next() < 0.7 ? pick(rng, [...store.keys()]) : pick(rng, session.keyPool);
}

/** Each command: what the client sends, and the answer it checks. */
const COMMANDS: Record<CommandKind, (session: Session) => Promise<void>> = {
  async SET(session) {
    const { rng } = session;
    const key = rng.next() < 0.8 ? pick(rng, session.keyPool) : keyOf(rng);
    const value = printable(rng, valueLength(rng));
    session.conn.send(`SET ${key} ${value}\n`);
    session.store.set(key, value);
    await expectLine(session, "SET", "OK");
  },
  async GET(session) {
    const key = someKey(session);
    session.conn.send(`GET ${key}\n`);
    const v = session.store.get(key);
    await expectLine(session, "GET", v === undefined ? "NOTFOUND" : `VALUE ${v}`);
  },
  async DEL(session) {
    const key = someKey(session);
    session.conn.send(`DEL ${key}\n`);
    await expectLine(session, "DEL", session.store.delete(key) ? "DELETED" : "NOTFOUND");
  },
  async LIST(session) {
    session.conn.send("LIST\n");
    await expectLine(session, "LIST", `KEYS ${session.store.size}`);
    for (const key of session.store.keys()) await expectLine(session, "LIST", `KEY ${key}`);
  },
  async ECHO(session) {
    const text = printable(session.rng, session.rng.nextInt(80));
    session.conn.send(`ECHO ${text}\n`);
    await expectLine(session, "ECHO", `ECHO ${text}`);
  },
  async STATS(session) {
    session.conn.send("STATS\n");
    const got = await session.conn.readLine();
    const m = /^STATS keys=(\d+) commands=(\d+) vmrss_kb=(\d+)$/.exec(got);
    const { store, served } = session;
    if (m === null || Number(m[1]) !== store.size || Number(m[2]) !== served || Number(m[3]) <= 0) {
      session.mismatches.push(
        `session ${session.index}: STATS: keys=${store.size} commands=${served} expected, got ${JSON.stringify(got)}`,
      );
    }
  },
  async SAVE(session) {
    session.conn.send("SAVE\n");
    session.saved.map = new Map(session.store);
    await expectLine(session, "SAVE", `SAVED ${session.store.size}`);
  },
  async LOAD(session) {
    session.conn.send("LOAD\n");
    const saved = session.saved.map;
    if (saved === undefined) {
      await expectLine(session, "LOAD", "NOTFOUND");
      return;
    }
    session.store.clear();
    for (const [k, v] of saved) session.store.set(k, v);
    await expectLine(session, "LOAD", `LOADED ${session.store.size}`);
  },
  async BLOB(session) {
    const note = Buffer.from(printable(session.rng, session.rng.nextInt(BLOB_LIMIT + 1)), "latin1");
    session.conn.send(Buffer.concat([Buffer.from(`BLOB ${note.length}\n`), note]));
    await expectLine(session, "BLOB", `BLOB ${note.length} ${fnv1a32(note).toString(16).padStart(8, "0")}`);
  },
  async ERR(session) {
    // Malformed input is part of normal life too: unknown commands, bad usage, out-of-range lengths.
    const bad = pick(session.rng, ["FROB x", "SET onlykey", "SET bad/key v", "BLOB", "BLOB 99999", "BLOB -1", "get x"]);
    session.conn.send(`${bad}\n`);
    const got = await session.conn.readLine();
    if (!got.startsWith("ERR ")) {
      session.mismatches.push(
        `session ${session.index}: ${JSON.stringify(bad)}: expected ERR, got ${JSON.stringify(got)}`,
      );
    }
  },
  async QUIT() {},
};
