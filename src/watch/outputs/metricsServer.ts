// The Prometheus endpoint of `watch --metrics`: GET /metrics in the text exposition format, on loopback unless an
// address says otherwise (the figures tell an attacker what is watched). Nothing else is served: other paths are
// 404, other methods 405. A port in use or not permitted is a typed error (exit 3), said before watching starts.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { HomeostatError } from "../../errors.js";

export interface MetricsAddress {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** The address listened on (the port the OS chose for port 0). */
  readonly address: MetricsAddress;
  close(): Promise<void>;
}

/** `127.0.0.1:9464`, `[::1]:9464`, `:9464` or `9464` (loopback); throws E_USAGE otherwise. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(text.trim());
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65_535)) {
    throw new HomeostatError("E_USAGE", `--metrics takes HOST:PORT or PORT (e.g. 127.0.0.1:9464), got "${text}"`);
  }
  const host = m[1] === undefined || m[1] === "" ? "127.0.0.1" : m[1].replace(/^\[|\]$/g, "");
  return { host, port };
}

/** Listens on `address`; resolves once listening. `text` gives the exposition (prom-client's registry.metrics()). */
export function startMetricsServer(
  address: MetricsAddress,
  text: () => Promise<string>,
  contentType: string,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: the metrics are at /metrics\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    text().then(
      (body) => res.writeHead(200, { "content-type": contentType }).end(req.method === "HEAD" ? undefined : body),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
    );
  });
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err, address)));
    server.listen(address.port, address.host, () => {
      const a = server.address() as AddressInfo;
      resolve({
        address: { host: a.address, port: a.port },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function listenError(err: NodeJS.ErrnoException, a: MetricsAddress): HomeostatError {
  const where = `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return new HomeostatError("E_LOCKED", `cannot serve metrics on ${where}: the port is in use`, {}, { cause: err });
    case "EACCES":
    case "EPERM":
      return new HomeostatError("E_PERMISSION", `not permitted to listen on ${where}`, {}, { cause: err });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new HomeostatError(
        "E_USAGE",
        `cannot serve metrics on ${where}: no such local address`,
        {},
        { cause: err },
      );
    default:
      return new HomeostatError("E_IO", `cannot serve metrics on ${where}: ${err.message}`, {}, { cause: err });
  }
}
