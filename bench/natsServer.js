// What the fleet benchmarks share: a free local port, a condition polled until a deadline, and a nats-server with
// JetStream started on free ports with its store in a given folder, ready once its health endpoint answers.

/* global fetch, setTimeout */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

const NATS = process.env.HOMEOSTAT_NATS_SERVER ?? "/usr/sbin/nats-server";

export async function freePort() {
  const srv = createServer().listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address();
  srv.close();
  await once(srv, "close");
  return port;
}

/** Polls `check` (sync or async) every `everyMs` until it holds; throws past `ms`. */
export async function until(what, check, ms = 120_000, everyMs = 100) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A nats-server with JetStream, its files in `dir`; with `nice`, at the lowest scheduling priority. */
export async function startNats(dir, { nice = false } = {}) {
  const port = await freePort();
  const http = await freePort();
  const conf = path.join(dir, "nats.conf");
  writeFileSync(
    conf,
    `listen: "127.0.0.1:${port}"\nhttp: "127.0.0.1:${http}"\njetstream { store_dir: ${JSON.stringify(path.join(dir, "js"))} }\n`,
  );
  const log = openSync(path.join(dir, "nats.log"), "a");
  const child = spawn(nice ? "nice" : NATS, nice ? ["-n", "19", NATS, "-c", conf] : ["-c", conf], {
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  await until("nats-server", async () => {
    try {
      return (await fetch(`http://127.0.0.1:${http}/healthz`)).ok;
    } catch {
      return false;
    }
  });
  return { url: `nats://127.0.0.1:${port}`, child };
}
