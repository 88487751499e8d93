// A free loopback TCP port for a server that takes its port as an argument (the demo's target, the test servers).
// Ports are drawn at random below the kernel's ephemeral range: bind(0) and every outgoing connection take ports
// from that range, so nothing running beside can take the chosen port between its choice and the server's bind.

import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { once } from "node:events";

/** Ports this process has handed out, never handed out twice (a cluster's ports are chosen before any is bound). */
const handedOut = new Set<number>();

/** A TCP port nothing listens on right now, drawn at random below the ephemeral range (the kernel's choice if none). */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = high > 12_000 ? 10_000 : 1024;
  for (let i = 0; i < 100 && high > low; i++) {
    const candidate = low + randomInt(high - low);
    const port = handedOut.has(candidate) ? undefined : await bindable(candidate);
    if (port !== undefined) return handOut(port);
  }
  return handOut((await bindable(0))!);
}

function handOut(port: number): number {
  handedOut.add(port);
  return port;
}

/** The lowest port the kernel gives to bind(0) and to outgoing connections. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds `port` on 127.0.0.1 and releases it; the bound port, or undefined when it is taken. */
async function bindable(port: number): Promise<number | undefined> {
  const srv = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!bound) return undefined;
  const got = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, "close");
  return got;
}
