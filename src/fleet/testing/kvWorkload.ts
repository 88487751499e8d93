// Normal traffic for the demo's key-value server (demo/kvserver.c) restricted to a subset of its commands, so that
// two fleet hosts can learn different parts of one program's normal behaviour (the pooling test). Every reply is
// checked against what the server must answer; the same seed and a fresh data folder give the same sessions, so a
// third host can be sent exactly the traffic one of them saw. Each session ends with QUIT and waits for the server
// to close it.

import { DemoConnection } from "../../demo/demoConnection.js";
import { fnv1a32 } from "../../demo/normalClient.js";
import { SeededRandom } from "../../models/random.js";

export type KvCommand = "SET" | "GET" | "DEL" | "LIST" | "ECHO" | "STATS" | "SAVE" | "LOAD" | "BLOB";

/** What the client knows of one server run's shared state: the store last saved (SAVE and LOAD share one file). */
export interface KvServerModel {
  saved: Map<string, string> | undefined;
}

export interface KvWorkloadOptions {
  port: number;
  sessions: number;
  seed: number;
  /** The commands drawn from (uniformly). */
  kinds: readonly KvCommand[];
  /** The server's saved store, kept by the caller across workloads on one server run (default: none saved yet). */
  server?: KvServerModel;
}

export interface KvWorkloadReport {
  commands: number;
  /** How often each command was sent. */
  counts: Partial<Record<KvCommand, number>>;
  /** Replies that differ from what the server must answer (empty when it is correct). */
  mismatches: string[];
}

const KEYS = ["alpha", "beta", "gamma", "delta", "k1", "k2", "key_with-dash", "Z"];

interface Session {
  conn: DemoConnection;
  rng: SeededRandom;
  store: Map<string, string>;
  server: KvServerModel;
  check: (what: string, got: string, ok: boolean) => void;
}

function text(rng: SeededRandom, max: number): string {
  let s = "";
  const n = rng.nextInt(max + 1);
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x21 + rng.nextInt(0x5e));
  return s;
}

/** Each command: what is sent, and the reply it must get. */
const COMMANDS: Record<KvCommand, (s: Session) => Promise<void>> = {
  async SET(s) {
    const key = KEYS[s.rng.nextInt(KEYS.length)]!;
    const value = `v${text(s.rng, 40)}`;
    s.store.set(key, value);
    s.conn.send(`SET ${key} ${value}\n`);
    const got = await s.conn.readLine();
    s.check("SET", got, got === "OK");
  },
  async GET(s) {
    const key = KEYS[s.rng.nextInt(KEYS.length)]!;
    s.conn.send(`GET ${key}\n`);
    const v = s.store.get(key);
    const got = await s.conn.readLine();
    s.check("GET", got, got === (v === undefined ? "NOTFOUND" : `VALUE ${v}`));
  },
  async DEL(s) {
    const key = KEYS[s.rng.nextInt(KEYS.length)]!;
    s.conn.send(`DEL ${key}\n`);
    const got = await s.conn.readLine();
    s.check("DEL", got, got === (s.store.delete(key) ? "DELETED" : "NOTFOUND"));
  },
  async LIST(s) {
    s.conn.send("LIST\n");
    const got = await s.conn.readLine();
    s.check("LIST", got, got === `KEYS ${s.store.size}`);
    for (const key of s.store.keys()) {
      const line = await s.conn.readLine();
      s.check("LIST", line, line === `KEY ${key}`);
    }
  },
  async ECHO(s) {
    const t = text(s.rng, 60);
    s.conn.send(`ECHO ${t}\n`);
    const got = await s.conn.readLine();
    s.check("ECHO", got, got === `ECHO ${t}`);
  },
  async STATS(s) {
    s.conn.send("STATS\n");
    const got = await s.conn.readLine();
    s.check("STATS", got, new RegExp(`^STATS keys=${s.store.size} commands=\\d+ vmrss_kb=[1-9]\\d*$`).test(got));
  },
  async SAVE(s) {
    s.conn.send("SAVE\n");
    s.server.saved = new Map(s.store);
    const got = await s.conn.readLine();
    s.check("SAVE", got, got === `SAVED ${s.store.size}`);
  },
  async LOAD(s) {
    s.conn.send("LOAD\n");
    const saved = s.server.saved;
    if (saved !== undefined) {
      s.store.clear();
      for (const [k, v] of saved) s.store.set(k, v);
    }
    const got = await s.conn.readLine();
    s.check("LOAD", got, got === (saved === undefined ? "NOTFOUND" : `LOADED ${saved.size}`));
  },
  async BLOB(s) {
    // Legitimate notes fit the server's 64-byte buffer with their NUL.
    const note = Buffer.from(text(s.rng, 63), "latin1");
    s.conn.send(Buffer.concat([Buffer.from(`BLOB ${note.length}\n`), note]));
    const got = await s.conn.readLine();
    s.check("BLOB", got, got === `BLOB ${note.length} ${fnv1a32(note).toString(16).padStart(8, "0")}`);
  },
};

/** Runs `sessions` sessions one after the other, each of 2..12 commands drawn from `kinds`, then QUIT. */
export async function runKvWorkload(o: KvWorkloadOptions): Promise<KvWorkloadReport> {
  const rng = new SeededRandom(o.seed);
  const mismatches: string[] = [];
  const server = o.server ?? { saved: undefined };
  const counts: Partial<Record<KvCommand, number>> = {};
  let commands = 0;
  for (let i = 0; i < o.sessions; i++) {
    const conn = await DemoConnection.connect(o.port);
    const check = (what: string, got: string, ok: boolean) => {
      if (!ok) mismatches.push(`session ${i}: ${what}: unexpected ${JSON.stringify(got.slice(0, 80))}`);
    };
    const session: Session = { conn, rng, store: new Map(), server, check };
    try {
      const n = 2 + rng.nextInt(11);
      for (let c = 0; c < n; c++, commands++) {
        const kind = o.kinds[rng.nextInt(o.kinds.length)]!;
        counts[kind] = (counts[kind] ?? 0) + 1;
        await COMMANDS[kind](session);
      }
      conn.send("QUIT\n");
      const bye = await conn.readLine();
      check("QUIT", bye, bye === "BYE");
      await conn.waitClosed();
    } finally {
      conn.close();
    }
  }
  return { commands, counts, mismatches };
}
