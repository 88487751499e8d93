// The fleet console as a Hono application, free of sockets (tests call app.request()), and its HTTP server: serve's
// security middleware (headers and Content-Security-Policy, Host check without a token, token or login cookie
// otherwise, CSRF on POSTs), its login form and assets, then the fleet's pages (Hosts, Alerts, Programs, Program),
// the live alert stream (serve's, over the fleet database) and JSON API. Errors become pages (a JSON body under /api/): a missing program 404, a bad parameter 400, anything
// else 500 with one line (never a stack trace).

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import { registerAssets } from "../serve/consoleApp.js";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import { html } from "../serve/html.js";
import { authority, isLoopback, type ListenAddress, requireTokenOffLoopback } from "../serve/listenAddress.js";
import { LiveEvents } from "../serve/liveEvents.js";
import { registerLogin } from "../serve/loginPage.js";
import { ConsoleSecurity } from "../serve/security.js";
import { registerFleetApi } from "./fleetApi.js";
import { fleetAlertQuery, registerFleetAlerts } from "./fleetAlertsPage.js";
import type { FleetConsoleContext } from "./fleetConsoleEnv.js";
import { fleetPage } from "./fleetLayout.js";
import { fleetAlertsAfter, fleetLastAlertId } from "./fleetQueries.js";
import { registerHosts } from "./hostsPage.js";
import { registerPrograms } from "./programPage.js";

export interface FleetConsoleOptions extends Omit<FleetConsoleContext, "allowPost" | "now"> {
  now?: () => number;
  token?: string;
  /** Host header values accepted without a token (the address served); undefined accepts any. */
  hosts?: readonly string[];
  onError?: (err: unknown) => void;
  /** The live alert streams (/events); the server closes them as it closes. */
  live?: LiveEvents;
}

export function createFleetConsoleApp(options: FleetConsoleOptions): Hono<ConsoleEnv> {
  const security = new ConsoleSecurity({
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
  });
  const ctx: FleetConsoleContext = {
    store: options.store,
    now: options.now ?? (() => Date.now() / 1000),
    status: options.status,
    ...(options.admin !== undefined ? { admin: options.admin } : {}),
    allowPost: (c, csrf) => security.postAllowed(c, csrf),
  };
  const app = new Hono<ConsoleEnv>();
  app.use("*", security.headers(), security.hostCheck(), security.authenticate());
  registerLogin(app, security);
  registerAssets(app);
  registerHosts(app, ctx);
  app.get("/hosts", (c) => c.redirect("/", 301));
  registerFleetAlerts(app, ctx);
  (options.live ?? new LiveEvents()).register(app, {
    filterOf: (c) => fleetAlertQuery(c).filter,
    lastId: () => fleetLastAlertId(ctx.store),
    after: (filter, after, limit) => fleetAlertsAfter(ctx.store, filter, after, limit),
  });
  registerPrograms(app, ctx);
  registerFleetApi(app, ctx);
  app.notFound((c) =>
    c.req.path.startsWith("/api/")
      ? c.json({ error: "not found" }, 404)
      : c.html(errorPage("Not found", "There is no such page."), 404),
  );
  app.onError((err, c) => {
    const status =
      err instanceof HomeostatError ? (err.code === "E_NOT_FOUND" ? 404 : err.code === "E_USAGE" ? 400 : 500) : 500;
    if (status === 500) options.onError?.(err);
    const message = err instanceof HomeostatError ? err.oneLine() : "internal error (see the console's terminal)";
    if (c.req.path.startsWith("/api/")) return c.json({ error: message }, status);
    return c.html(errorPage(status === 404 ? "Not found" : "Error", message), status);
  });
  return app;
}

function errorPage(title: string, message: string): string {
  return fleetPage(
    title,
    "hosts",
    html`<h1>${title}</h1>
      <p>${message}</p>`,
  );
}

export interface ListeningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the console on `address` (loopback unless a token protects it: E_USAGE otherwise). */
export async function listenFleetConsole(
  options: FleetConsoleOptions,
  address: ListenAddress,
): Promise<ListeningConsole> {
  requireTokenOffLoopback(address, options.token !== undefined);
  const { createAdaptorServer } = await import("@hono/node-server");
  const hosts: string[] = [];
  const live = options.live ?? new LiveEvents();
  const app = createFleetConsoleApp({ ...options, live, ...(options.token === undefined ? { hosts } : {}) });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: address.host }) as Server;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const where = authority(address.host, address.port);
      const code = err.code === "EADDRINUSE" ? "E_LOCKED" : err.code === "EACCES" ? "E_PERMISSION" : "E_IO";
      reject(new HomeostatError(code, `cannot listen on ${where}: ${err.message}`, {}, { cause: err }));
    });
    server.listen(address.port, address.host, () => resolve((server.address() as AddressInfo).port));
  });
  // Without a token, only requests addressed to this console by name are served (DNS rebinding).
  hosts.push(authority(address.host, port).toLowerCase());
  if (isLoopback(address.host)) hosts.push(`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      live.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { url: `http://${authority(address.host, port)}/`, port, close };
}
