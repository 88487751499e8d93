// A free loopback TCP port for a server that must be told its port (the demo's target, nginx and its application,
// openssl s_server, the test servers). Ports are drawn at random below the kernel's ephemeral range: bind(0) and
// every outgoing connection take their ports from that range, so no client connection made meanwhile (thousands, by
// other programs or tests running beside) can take the chosen port between the check and the server's bind.

import { randomInt } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { HomeostatError } from "../errors.js";

/** Ports this process has handed out: never handed out twice, since a server may bind its port only later. */
const handedOut = new Set<number>();

/** A port on 127.0.0.1 nothing listens on, from [1024 + (range start - 1024) / 2, range start). Throws E_IO. */
export async function freePort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, Math.floor((top + 1024) / 2));
  for (let tries = 0; tries < 200; tries++) {
    const port = bottom + randomInt(top - bottom);
    if (!handedOut.has(port) && (await canBind(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new HomeostatError("E_IO", `no free port on 127.0.0.1 in ${bottom}-${top - 1}`);
}

/** The first port of the kernel's ephemeral range (32768 when unreadable). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 2048 ? first : 32768;
  } catch {
    return 32768;
  }
}

async function canBind(port: number): Promise<boolean> {
  const srv = createServer();
  const bound = await new Promise<boolean>((resolve) => {
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (!bound) return false;
  srv.close();
  await once(srv, "close");
  return true;
}
