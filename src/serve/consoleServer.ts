// The console served over HTTP: the state store opened read-only (WAL: it reads beside a running watch and never
// blocks it), the application of consoleApp.ts on a node:http server bound to the --listen address (port 0: the
// system picks, and `port` says which), and a close that ends the live streams, the connections and the store.

import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { Server } from "node:http";
import { HomeostatError } from "../errors.js";
import { STATE_SCHEMA_VERSION, StateStore } from "../store/stateStore.js";
import { createConsoleApp } from "./consoleApp.js";
import { authority, isLoopback, type ListenAddress, requireTokenOffLoopback } from "./listenAddress.js";

export interface ConsoleServerOptions extends ListenAddress {
  stateDir: string;
  token?: string;
  /** Milliseconds between the live streams' polls of the store (default 250). */
  pollMs?: number;
  /** An unexpected error while serving a request (the page says only "internal error"). */
  onError?: (err: unknown) => void;
}

export interface RunningConsole {
  /** The URL of the overview, with the port actually bound. */
  url: string;
  port: number;
  /** Live event streams open now. */
  streams(): number;
  close(): Promise<void>;
}

export async function startConsole(options: ConsoleServerOptions): Promise<RunningConsole> {
  requireTokenOffLoopback(options, options.token !== undefined);
  const store = StateStore.open(options.stateDir, { readonly: true });
  try {
    if (store.schemaVersion < STATE_SCHEMA_VERSION) {
      throw new HomeostatError(
        "E_VERSION",
        `the state database has schema version ${store.schemaVersion}; the console reads version ${STATE_SCHEMA_VERSION}, ` +
          `which homeostat watch (or a profiles command that changes a profile) of this version migrates it to`,
        { file: store.path },
      );
    }
    return await listen(store, options);
  } catch (err) {
    store.close();
    throw err;
  }
}

async function listen(store: StateStore, options: ConsoleServerOptions): Promise<RunningConsole> {
  const hosts: string[] = [];
  const { app, live } = createConsoleApp({
    store,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.token === undefined ? { hosts } : {}),
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: options.host }) as Server;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err as NodeJS.ErrnoException, options)));
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  // Without a token, only requests addressed to this console by name are served (DNS rebinding).
  hosts.push(authority(options.host, port).toLowerCase());
  if (isLoopback(options.host)) hosts.push(`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      live.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }).finally(() => store.close()));
  return { url: `http://${authority(options.host, port)}/`, port, streams: () => live.streams, close };
}

function listenError(err: NodeJS.ErrnoException, a: ListenAddress): HomeostatError {
  const where = authority(a.host, a.port);
  if (err.code === "EADDRINUSE")
    return new HomeostatError("E_LOCKED", `${where} is already in use (--listen picks another)`);
  if (err.code === "EACCES") return new HomeostatError("E_PERMISSION", `not permitted to listen on ${where}`);
  if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") {
    return new HomeostatError("E_USAGE", `${a.host} is not an address of this host`);
  }
  return new HomeostatError("E_IO", `cannot listen on ${where}: ${err.message}`, {}, { cause: err });
}
