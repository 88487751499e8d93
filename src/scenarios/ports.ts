// Ports for servers that must be told their port (nginx and its application, openssl s_server): a free port on
// 127.0.0.1 *below* the kernel's ephemeral range, so that no client connection made meanwhile (thousands, by other
// programs of the same build) can take it as its own source port between the check and the server's bind.

import { readFileSync } from "node:fs";
import net from "node:net";
import { HomeostatError } from "../errors.js";

/** The first port of the kernel's ephemeral range (32768 when unreadable). */
function ephemeralStart(): number {
  try {
    const first = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 2048 ? first : 32768;
  } catch {
    return 32768;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 nothing listens on, from [1024 + (range start - 1024) / 2, range start). */
export async function unusedPort(): Promise<number> {
  const top = ephemeralStart();
  const bottom = Math.max(1024, Math.floor((top + 1024) / 2));
  for (let tries = 0; tries < 200; tries++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (await canBind(port)) return port;
  }
  throw new HomeostatError("E_IO", `no free port on 127.0.0.1 in ${bottom}-${top - 1}`);
}
