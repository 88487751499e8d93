// The Hosts page (/), the fleet console's first page: every host that reported, whether it still does (its last
// heartbeat and how long ago), its watch's figures from that heartbeat (events per second, events lost, the
// outgoing spool and what it had to drop, profiles by state) and the alerts stored from it, with the chart of
// alerts per hour by host and the central side's own state (connected, messages stored, rejected).

import type { Hono } from "hono";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import { count, html, isoTime, link, type SafeHtml } from "../serve/html.js";
import { chartDiv } from "../serve/layout.js";
import { alertsByHostChart } from "./fleetCharts.js";
import type { FleetConsoleContext, FleetStatus } from "./fleetConsoleEnv.js";
import { ago, fleetPage } from "./fleetLayout.js";
import { alertHoursByHost, type HostView, hostViews } from "./fleetQueries.js";

export function registerHosts(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/", (c) => {
    const now = ctx.now();
    const { hosts, hourly, counts } = ctx.store.snapshot(() => ({
      hosts: hostViews(ctx.store, now),
      hourly: alertHoursByHost(ctx.store),
      counts: ctx.store.counts(),
    }));
    const by = (s: HostView["status"]) => hosts.filter((h) => h.status === s).length;
    const card = (label: string, n: number) => html`<div class="card"><b>${count(n)}</b>${label}</div>`;
    const body = html`<h1>Hosts</h1>
      ${centralStatus(ctx.status(), counts.alerts)}
      <div class="cards">
        ${card("hosts", hosts.length)}${card("reporting", by("reporting"))}${card("late", by("late"))}${card(
          "silent",
          by("silent") + by("no heartbeat"),
        )}${card("alerts stored", counts.alerts)}
      </div>
      ${hourly.length > 0 ? chartDiv("alerts-by-host") : html`<p class="note">No alerts yet.</p>`} ${hostTable(hosts)}`;
    return c.html(fleetPage("Hosts", "hosts", body, [alertsByHostChart("alerts-by-host", hourly)]));
  });
}

function centralStatus(s: FleetStatus, alerts: number): SafeHtml {
  const rejected = s.ingest.rejected ?? 0;
  const line = s.connected
    ? html`<p class="flash">Connected to NATS; ${count(alerts)} alerts stored.</p>`
    : html`<p class="warn">Not connected to NATS now (reconnecting); what is stored is shown.</p>`;
  return html`${line}${
    rejected > 0 ? html`<p class="warn">${count(rejected)} messages were not of the protocol and were refused.</p>` : ""
  }`;
}

function hostTable(hosts: readonly HostView[]): SafeHtml {
  const rows =
    hosts.length === 0
      ? html`<tr class="empty">
          <td colspan="11">No host has reported yet.</td>
        </tr>`
      : hosts.map((h) => hostRow(h));
  return html`<table id="hosts-table">
    <thead>
      <tr>
        <th>host</th>
        <th>status</th>
        <th>last heartbeat (UTC)</th>
        <th>watch since</th>
        <th>version</th>
        <th class="n">events/s</th>
        <th class="n">lost events</th>
        <th class="n">spooled</th>
        <th class="n">spool dropped</th>
        <th>profiles (training / frozen / normal)</th>
        <th class="n">alerts</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

function hostRow(h: HostView): SafeHtml {
  const c = h.counters;
  const p = c?.profiles;
  const profiles = p === undefined ? "-" : `${p.training ?? 0} / ${p.frozen ?? 0} / ${p.normal ?? 0}`;
  const n = (v: number | null | undefined) => (v === null || v === undefined ? "-" : count(v));
  return html`<tr data-host="${h.id}">
    <td><a href="${link("/alerts", { host: h.id })}">${h.id}</a></td>
    <td class="status-${h.status.replace(" ", "-")}">${h.status}</td>
    <td>${isoTime(h.lastHeartbeat)} <span class="note">${ago(h.ago)}</span></td>
    <td>${isoTime(h.started)}</td>
    <td>${h.version ?? "-"}</td>
    <td class="n">${h.eventsPerSecond === null ? "-" : h.eventsPerSecond.toFixed(1)}</td>
    <td class="n">${n(c?.lost)}</td>
    <td class="n">${n(c?.spooled)}</td>
    <td class="n">${n(c?.spoolDropped)}</td>
    <td>${profiles}</td>
    <td class="n"><a href="${link("/alerts", { host: h.id })}">${count(h.alerts)}</a></td>
  </tr>`;
}
