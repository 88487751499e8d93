// The fleet console's JSON API, under /api/fleet/ and behind the same security as its pages (a bearer token when the
// console has one): the central side's status, the hosts, alerts (the Alerts page's filters and cursor), the
// programs, and one program across hosts. Read-only: operations go through the Program page's confirmed form or
// `homeostat profiles <op> --fleet`.

import type { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import { fleetAlertQuery } from "./fleetAlertsPage.js";
import type { FleetConsoleContext } from "./fleetConsoleEnv.js";
import { FLEET_PAGE_SIZE, fleetAlertPage, hostViews, programDetail, programSummaries } from "./fleetQueries.js";

export function registerFleetApi(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/api/fleet/status", (c) => c.json({ ...ctx.status(), counts: ctx.store.counts(), time: ctx.now() }));
  app.get("/api/fleet/hosts", (c) => c.json({ hosts: ctx.store.snapshot(() => hostViews(ctx.store, ctx.now())) }));
  app.get("/api/fleet/alerts", (c) => {
    const { filter, before } = fleetAlertQuery(c);
    const text = c.req.query("limit") ?? String(FLEET_PAGE_SIZE);
    const limit = /^\d{1,4}$/.test(text) ? Math.min(Math.max(Number(text), 1), 1000) : FLEET_PAGE_SIZE;
    const { rows, more } = fleetAlertPage(ctx.store, filter, before, limit);
    return c.json({ alerts: rows, more, before: more ? rows[rows.length - 1]!.id : null });
  });
  app.get("/api/fleet/programs", (c) => c.json({ programs: ctx.store.snapshot(() => programSummaries(ctx.store)) }));
  app.get("/api/fleet/programs/:id", (c) => {
    const id = c.req.param("id");
    const d = ctx.store.snapshot(() => programDetail(ctx.store, id));
    if (d === undefined) throw new HomeostatError("E_NOT_FOUND", `no host has a profile of program ${id}`);
    return c.json(d);
  });
}
