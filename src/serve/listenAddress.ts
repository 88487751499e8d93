// The console's --listen address: HOST:PORT ([V6]:PORT for IPv6), strict decimal port 0-65535 (0: the system picks
// one), and the rule that keeps an unauthenticated console private: without a token only a loopback address
// (127.0.0.0/8, ::1, localhost) may be served.

import { isIP } from "node:net";
import { HomeostatError } from "../errors.js";

export const DEFAULT_LISTEN = "127.0.0.1:8470";

export interface ListenAddress {
  host: string;
  port: number;
}

export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new HomeostatError(
      "E_USAGE",
      `--listen must be HOST:PORT (or [IPv6]:PORT) with a port 0-65535, got "${text}"`,
    );
  }
  const host = (m[1] ?? m[2])!;
  if (m[1] !== undefined && isIP(host) !== 6) throw new HomeostatError("E_USAGE", `not an IPv6 address: "${host}"`);
  return { host, port };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** E_USAGE for a non-loopback address without a token. */
export function requireTokenOffLoopback(address: ListenAddress, hasToken: boolean): void {
  if (hasToken || isLoopback(address.host)) return;
  throw new HomeostatError(
    "E_USAGE",
    `refusing to serve the console on ${address.host}, which is not a loopback address, without a token: ` +
      `give --token-file FILE (every request must then carry the token), or listen on 127.0.0.1`,
  );
}

/** HOST:PORT as a URL authority (IPv6 in brackets). */
export function authority(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
