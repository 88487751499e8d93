// The console as a Hono application, free of sockets (consoleServer.ts serves it; tests call app.request()): the
// security middleware first (headers, Host check, authentication), then the login form, the static assets from
// their allow-list, the pages, and the live alert stream. Errors become pages: a missing profile 404, a bad
// parameter 400, anything else 500 with a one-line message (never a stack trace).

import { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import type { StateStore } from "../store/stateStore.js";
import { alertsAfter, lastAlertId } from "./alertQueries.js";
import { alertFilterOf, registerAlerts } from "./alertsPage.js";
import { asset } from "./assets.js";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { LiveEvents, type LiveEventsOptions } from "./liveEvents.js";
import { registerLogin } from "./loginPage.js";
import { registerOverview } from "./overviewPage.js";
import { registerProfile } from "./profilePage.js";
import { registerProfiles } from "./profilesPage.js";
import { registerResponses } from "./responsesPage.js";
import { ConsoleSecurity } from "./security.js";

export interface ConsoleAppOptions extends LiveEventsOptions {
  /** The state store, opened read-only. */
  store: StateStore;
  /** When set, every request needs it. */
  token?: string;
  /** Host header values accepted without a token (the address served); undefined accepts any. */
  hosts?: readonly string[];
  now?: () => number;
  /** An unexpected error while serving a request (its page says only "internal error"). */
  onError?: (err: unknown) => void;
}

export interface ConsoleApp {
  app: Hono<ConsoleEnv>;
  live: LiveEvents;
}

export function createConsoleApp(options: ConsoleAppOptions): ConsoleApp {
  const now = options.now;
  const security = new ConsoleSecurity({
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
    // The throttle of wrong tokens keeps the pages' clock (a test's fixed one too), in milliseconds.
    ...(now !== undefined ? { now: () => now() * 1000 } : {}),
  });
  const ctx: ConsoleContext = {
    store: options.store,
    stateDir: options.store.dir,
    now: options.now ?? (() => Date.now() / 1000),
    allowPost: (c, csrf) => security.postAllowed(c, csrf),
  };
  const app = new Hono<ConsoleEnv>();
  app.use("*", security.headers(), security.hostCheck(), security.authenticate());
  registerLogin(app, security);
  registerAssets(app);
  registerOverview(app, ctx);
  registerProfiles(app, ctx);
  registerProfile(app, ctx);
  registerAlerts(app, ctx);
  registerResponses(app, ctx);
  const live = new LiveEvents(options);
  live.register(app, {
    filterOf: alertFilterOf,
    lastId: () => lastAlertId(ctx.store),
    after: (filter, after, limit) => alertsAfter(ctx.store, filter, after, limit),
  });
  app.notFound((c) => c.html(errorPage("Not found", "There is no such page."), 404));
  app.onError((err, c) => {
    const status = err instanceof HomeostatError ? statusOf(err) : 500;
    if (status === 500) options.onError?.(err);
    const message = err instanceof HomeostatError ? err.oneLine() : "internal error (see the console's terminal)";
    return c.html(errorPage(status === 404 ? "Not found" : "Error", message), status);
  });
  return { app, live };
}

/** The static assets of assets.ts under /assets/ (ETag, cached an hour), and an empty favicon. */
export function registerAssets(app: Hono<ConsoleEnv>): void {
  // Browsers ask for it unprompted; an empty answer instead of a 404 in their console.
  app.get("/favicon.ico", (c) => c.body(null, 204));
  app.get("/assets/:name", (c) => {
    const a = asset(c.req.param("name"));
    if (a === undefined) return c.notFound();
    const headers = { "Content-Type": a.type, "Cache-Control": "private, max-age=3600", ETag: a.etag };
    if (c.req.header("If-None-Match") === a.etag) return c.body(null, 304, headers);
    return c.body(a.body, 200, headers);
  });
}

function statusOf(err: HomeostatError): 400 | 404 | 500 {
  if (err.code === "E_NOT_FOUND") return 404;
  if (err.code === "E_USAGE") return 400;
  return 500;
}

function errorPage(title: string, message: string): string {
  return page({
    title,
    nav: "overview",
    body: html`<h1>${title}</h1>
      <p>${message}</p>`,
  });
}
