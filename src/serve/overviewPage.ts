// The Overview page (/): the running watch and the newest runs with the last one's summary (runsView.ts), profiles
// by state, alerts per hour by rule and priority, losses, and the newest alerts.

import type { Hono } from "hono";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { alertPage } from "./alertQueries.js";
import { alertsOverTimeChart } from "./charts.js";
import { count, html, isoTime, type SafeHtml } from "./html.js";
import { chartDiv, page } from "./layout.js";
import { type Overview, overview } from "./overviewQueries.js";
import { alertTable } from "./alertsPage.js";
import { runsSection } from "./runsView.js";

export function registerOverview(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/", (c) => {
    const o = overview(ctx.store);
    const latest = alertPage(ctx.store, {}, undefined, 10).rows;
    const body = html`<h1>Overview</h1>
      <h2>Watch</h2>
      ${runsSection(o)}
      <h2>Profiles</h2>
      ${profileCards(o)}
      <h2>Alerts</h2>
      <p>
        ${count(o.alerts.stored)} alerts
        stored${o.alerts.lastTime !== null ? html`, the newest at ${isoTime(o.alerts.lastTime)}` : ""}.
        <a href="/alerts">All alerts</a>.
      </p>
      ${o.hourly.length > 0 ? chartDiv("alerts-over-time") : html`<p class="note">No alerts yet.</p>`}
      <h2>Losses</h2>
      ${lossSummary(o)}
      <h2>Newest alerts</h2>
      ${alertTable(latest)}`;
    return c.html(
      page({ title: "Overview", nav: "overview", body, charts: [alertsOverTimeChart("alerts-over-time", o.hourly)] }),
    );
  });
}

function profileCards(o: Overview): SafeHtml {
  const card = (label: string, n: number, state?: string) =>
    html`<div class="card">
      <b>${count(n)}</b>${state !== undefined ? html`<a href="/profiles?state=${state}">${label}</a>` : label}
    </div>`;
  const s = o.profiles.byState;
  return html`<div class="cards">
    ${card("profiles", o.profiles.total)}${card("training", s.training ?? 0, "training")}${card("frozen", s.frozen ?? 0, "frozen")}${card("normal", s.normal ?? 0, "normal")}
  </div>`;
}

function lossSummary(o: Overview): SafeHtml {
  const l = o.losses;
  const last = l.lastLost;
  const totals =
    last === null
      ? ""
      : html` The newest loss alert counts ${String(last["homeostat.lost"] ?? "?")} events (totals: kernel
        ${String(last["homeostat.lost_kernel"] ?? "?")}, capture ${String(last["homeostat.lost_capture"] ?? "?")},
        monitor ${String(last["homeostat.lost_monitor"] ?? "?")}).`;
  return html`<p>
    ${count(l.lostAlerts)} alerts of lost events, ${count(l.droppedAlerts)} of events dropped at homeostat's
    limits.${totals}
  </p>`;
}
