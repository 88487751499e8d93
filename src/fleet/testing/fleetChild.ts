// `homeostat fleet serve` as a child process (the built CLI: run `npm run build` first) for the tests that kill it:
// started with --json, ready once its "started" line arrives on stdout; killed with SIGKILL, or stopped with
// SIGTERM and its "stopped" line (the figures) read. Also the count of rows a fleet database holds, read beside
// the writer through the WAL.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import path from "node:path";
import { openSqlite } from "../../store/sqliteDatabase.js";
import { BIN } from "../../testing/paths.js";

export interface FleetChild {
  readonly child: ChildProcess;
  /** Every JSON line it wrote on stdout so far. */
  readonly events: Record<string, unknown>[];
  stderr(): string;
  kill(): Promise<void>;
  /** SIGTERM, then its "stopped" line. */
  stop(): Promise<Record<string, unknown>>;
}

export async function startFleetChild(args: readonly string[], readyMs = 60_000): Promise<FleetChild> {
  const child = spawn(process.execPath, [BIN, "fleet", "serve", "--json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const events: Record<string, unknown>[] = [];
  let err = "";
  let out = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fleet serve not started after ${readyMs} ms: ${err}`)), readyMs);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      let nl: number;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const e = JSON.parse(line) as Record<string, unknown>;
        events.push(e);
        if (e.event === "started") {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`fleet serve ended (${code ?? signal}) before it started: ${err}`));
    });
  });
  await started;
  const gone = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(signal);
    await exited;
  };
  return {
    child,
    events,
    stderr: () => err,
    kill: () => gone("SIGKILL"),
    stop: async () => {
      await gone("SIGTERM");
      const stopped = events.find((e) => e.event === "stopped");
      if (stopped === undefined) throw new Error(`fleet serve stopped without its figures: ${err}`);
      return stopped;
    },
  };
}

/** Rows of `table` in the fleet database of `stateDir` (0 before it exists), and how many distinct message ids. */
export function fleetRows(stateDir: string, table: "alerts" | "actions"): { n: number; ids: number } {
  const file = path.join(stateDir, "fleet.db");
  if (!existsSync(file)) return { n: 0, ids: 0 };
  const db = openSqlite(file, { readonly: true, timeout: 5000 });
  try {
    return db.prepare(`SELECT count(*) AS n, count(DISTINCT msg_id) AS ids FROM ${table}`).get() as {
      n: number;
      ids: number;
    };
  } catch {
    return { n: 0, ids: 0 }; // not created yet
  } finally {
    db.close();
  }
}
