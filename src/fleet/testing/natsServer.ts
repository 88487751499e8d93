// Real nats-server processes with JetStream for the fleet tests: one server (or a cluster of three with routes and
// JetStream replicas) on random free ports in a temporary folder, ready when its health endpoint says JetStream is
// up (polled, never a fixed sleep); a server can be killed (SIGKILL, as a crash) and restarted on the same port and
// store, which is how the tests cut a watch off from the fleet and give it back. A port taken by another process
// between its choice and the bind means new ports and a new start.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../demo/freePort.js";

export { freePort };

export const NATS_SERVER_BIN = process.env.HOMEOSTAT_NATS_SERVER ?? "/usr/sbin/nats-server";
const READY_DEADLINE_MS = 60_000;

/** Why the fleet tests that need a server cannot run here, or undefined when they can. */
export function natsServerUnavailableReason(): string | undefined {
  if (!existsSync(NATS_SERVER_BIN)) return `${NATS_SERVER_BIN} is not installed (apt-get install nats-server)`;
  const r = spawnSync(NATS_SERVER_BIN, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? undefined : `${NATS_SERVER_BIN} --version failed`;
}

export interface NatsServerOptions {
  /** Folder for the config, log and store (default: a new temporary folder, removed by cleanup()). */
  dir?: string;
  name?: string;
  /** Extra configuration text (authorization, tls, ...), appended to the generated file. */
  extraConfig?: string;
  /** Cluster block settings (the cluster helper sets them). */
  cluster?: { name: string; port: number; routes: number[] };
}

export interface NatsServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly storeDir: string;
  readonly logFile: string;
  /** The running process's pid, or undefined while stopped. */
  readonly pid: number | undefined;
  /** Kills the server (SIGKILL) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store, and waits until it is ready. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  cleanup(): Promise<void>;
  /** Waits until the server is ready (its health endpoint answers ok). */
  ready(): Promise<void>;
  /** The server's log so far, for a failing test's message. */
  log(): string;
}

function configText(o: { name: string; port: number; httpPort: number; storeDir: string } & NatsServerOptions): string {
  const lines = [
    `server_name: ${o.name}`,
    `listen: "127.0.0.1:${o.port}"`,
    `http: "127.0.0.1:${o.httpPort}"`,
    `jetstream { store_dir: ${JSON.stringify(o.storeDir)} }`,
  ];
  if (o.cluster !== undefined) {
    const routes = o.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
    lines.push(`cluster { name: ${o.cluster.name}, listen: "127.0.0.1:${o.cluster.port}", routes: [${routes}] }`);
  }
  if (o.extraConfig !== undefined) lines.push(o.extraConfig);
  return `${lines.join("\n")}\n`;
}

/** Polls the health endpoint until JetStream answers ok, the process exits, or the deadline passes. */
async function waitReady(httpPort: number, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  let exited = child.exitCode !== null;
  child.once("exit", () => (exited = true));
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (exited) throw new Error(`nats-server exited while starting:\n${tail(logFile)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`nats-server not ready after ${READY_DEADLINE_MS} ms:\n${tail(logFile)}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Starts one nats-server with JetStream; resolves once it is ready. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  // A free port may be taken by another test between the kernel's answer and the server's bind: try again then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

async function startOnce(opts: NatsServerOptions): Promise<NatsServer> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "homeostat-nats-"));
  const name = opts.name ?? "n1";
  const port = await freePort();
  const httpPort = await freePort();
  const storeDir = join(dir, `${name}-store`);
  const confFile = join(dir, `${name}.conf`);
  const logFile = join(dir, `${name}.log`);
  writeFileSync(confFile, configText({ ...opts, name, port, httpPort, storeDir }));
  let child: ChildProcess | undefined;

  const launch = async (wait: boolean): Promise<void> => {
    const log = openSync(logFile, "a");
    try {
      child = spawn(NATS_SERVER_BIN, ["-c", confFile], { stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    if (wait) await waitReady(httpPort, child, logFile);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const gone = once(c, "exit");
    c.kill("SIGKILL");
    await gone;
  };
  // A clustered server is healthy only once its peers are up: the cluster helper waits for all of them.
  try {
    await launch(opts.cluster === undefined);
  } catch (err) {
    await stop();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name,
    port,
    url: `nats://127.0.0.1:${port}`,
    dir,
    storeDir,
    logFile,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      await launch(true);
    },
    cleanup: async () => {
      await stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    ready: () => (child === undefined ? Promise.reject(new Error("stopped")) : waitReady(httpPort, child, logFile)),
    log: () => tail(logFile),
  };
}

export interface NatsCluster {
  readonly servers: NatsServer[];
  /** Every server's URL, for a client's server list. */
  readonly urls: string[];
  cleanup(): Promise<void>;
}

/** Starts `size` (3) servers routed to each other in one JetStream cluster; resolves once every one is ready. */
export async function startNatsCluster(size = 3, extraConfig?: string): Promise<NatsCluster> {
  // As for one server: a port taken between its choice and the bind means new ports and a new start.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(size, extraConfig);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

async function startClusterOnce(size: number, extraConfig: string | undefined): Promise<NatsCluster> {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-nats-cluster-"));
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) routePorts.push(await freePort());
  const servers: NatsServer[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const cluster = { name: "homeostat", port: routePorts[i]!, routes: routePorts.filter((_, j) => j !== i) };
      servers.push(await startNatsServer({ dir, name: `n${i + 1}`, cluster, extraConfig }));
    }
    for (const s of servers) await s.ready();
  } catch (err) {
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    servers,
    urls: servers.map((s) => s.url),
    cleanup: async () => {
      for (const s of servers) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
