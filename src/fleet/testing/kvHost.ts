// One fleet host of the pooling test: `homeostat watch --fleet` (the built CLI: `npm run build` first) running the
// demo's key-value server (demo/kvserver.c) under strace, its output collected. Ready once the server has printed
// its port and pid (it inherits the watch's stdout, beside the --json alert lines); stopped as an operator stops a
// watch, with SIGTERM, which ends the server and saves the profiles. Also the live sessions of a server, read from
// /proc, so that a test can tell when every call of a batch of sessions has been made.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import type { HostAlert } from "../../engine/hostAlerts.js";
import { BIN } from "../../testing/paths.js";
import { until } from "./fleetTraffic.js";

/**
 * pH's own freeze rule (128/32); normal as soon as frozen; saves (hence snapshots) twice a second. Static models
 * stay on, as by default: besides their own check, they make the watch hold a new task's calls until its program
 * is certain, so that a session whose first calls strace prints before its parent's fork returns still continues
 * the parent's sequence (without them it would start afresh, and its first lookahead pairs would depend on the
 * order strace happened to print).
 */
export const KV_HOST_SETTINGS = ["--normal-wait", "0", "--save-interval", "0.5", "--json"];

export interface KvHostOptions {
  url: string;
  host: string;
  state: string;
  /** The server binary this host runs (its own copy). */
  binary: string;
  /** The server's data folder (created). */
  dataDir: string;
  /** More watch flags (--fleet-profiles pull). */
  extra?: readonly string[];
}

/** The last line of `watch --json`: the summary, in the alerts' shape. */
export interface WatchSummaryLine {
  rule: string;
  output_fields: { fleet: { profiles: { snapshotsPut: number; pulled: number; pullMisses: number } } };
}

export interface KvHost {
  readonly port: number;
  /** The listening server process. */
  readonly serverPid: number;
  stdout(): string;
  stderr(): string;
  /** The alerts printed so far (the summary left out). */
  alerts(): HostAlert[];
  /** SIGTERM; the exit code and the summary line. */
  stop(): Promise<{ code: number | null; summary: WatchSummaryLine }>;
  /** For the cleanup of a failed test: SIGTERM (the watch ends strace and the server), SIGKILL if it hangs. */
  kill(): Promise<void>;
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function startKvHost(o: KvHostOptions): Promise<KvHost> {
  mkdirSync(o.dataDir, { recursive: true });
  const fleet = ["--fleet", o.url, "--host-id", o.host, ...(o.extra ?? [])];
  const args = ["watch", "--state", o.state, ...KV_HOST_SETTINGS, ...fleet, "--", o.binary, "0", o.dataDir];
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const started = () => /^(\d+)\npid (\d+)$/m.exec(out);
  try {
    await until(
      `${o.host}'s server`,
      () => started() !== null || child.exitCode !== null || child.signalCode !== null,
      60_000,
    );
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  const m = started();
  if (m === null) throw new Error(`${o.host}: watch ended before the server listened: ${err}`);
  return {
    port: Number(m[1]),
    serverPid: Number(m[2]),
    stdout: () => out,
    stderr: () => err,
    alerts: () => jsonLines(out).filter((l) => l.rule !== "homeostat watch summary") as unknown as HostAlert[],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const code = await exit;
      const summary = jsonLines(out).at(-1) as unknown as WatchSummaryLine | undefined;
      if (summary?.rule !== "homeostat watch summary") throw new Error(`${o.host}: no summary (${code}): ${err}`);
      return { code, summary };
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const hung = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exit;
      clearTimeout(hung);
    },
  };
}

/** Live (not yet exited) child processes of `pid`: a server's sessions still running. */
export function liveChildren(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) === pid && state !== "Z" && state !== "X") out.push(Number(name));
  }
  return out;
}
