// The fleet's Alerts page (/alerts): every host's alerts, newest first, filtered by host, rule, priority, program
// (its content identity: its alerts on every host that has a profile of it) or path through query parameters (a
// plain GET form), paged by id; each with its host and the window of calls before it. With JavaScript, rows for new
// alerts are added as the /events stream announces them (serve's liveEvents.ts over the fleet database).

import type { Context, Hono } from "hono";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import { html, link, type SafeHtml } from "../serve/html.js";
import type { FleetConsoleContext } from "./fleetConsoleEnv.js";
import { fleetPage } from "./fleetLayout.js";
import { type FleetAlertFilter, type FleetAlertView, fleetAlertPage, fleetLastAlertId } from "./fleetQueries.js";

const PRIORITIES = ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"];
const FILTERS = ["host", "rule", "priority", "program", "exe"] as const;

/** The filter the query parameters name (empty ones left out), and `before`, the paging cursor. */
export function fleetAlertQuery(c: Context<ConsoleEnv>): { filter: FleetAlertFilter; before?: number } {
  const filter: FleetAlertFilter = {};
  for (const k of FILTERS) {
    const v = c.req.query(k);
    if (v !== undefined && v !== "") filter[k] = v.slice(0, 4096);
  }
  const b = c.req.query("before");
  return b !== undefined && /^\d{1,15}$/.test(b) ? { filter, before: Number(b) } : { filter };
}

export function registerFleetAlerts(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/alerts", (c) => {
    const { filter, before } = fleetAlertQuery(c);
    const { rows, more, hosts, after } = ctx.store.snapshot(() => ({
      ...fleetAlertPage(ctx.store, filter, before),
      after: fleetLastAlertId(ctx.store),
      hosts: (ctx.store.select(`SELECT id FROM hosts ORDER BY id`).all() as { id: string }[]).map((r) => r.id),
    }));
    const params = filter as Record<string, string>;
    const next = more ? link("/alerts", { ...params, before: rows[rows.length - 1]!.id }) : undefined;
    const live = before === undefined ? link("/events", { ...params, after }) : undefined;
    const title = filter.host !== undefined ? `Alerts of ${filter.host}` : "Alerts";
    const body = html`<h1>${title}</h1>
      ${filterForm(params, hosts)}
      <p id="live-status" class="note">
        ${live !== undefined ? "Newest first." : "Older alerts: live updates are on the first page."}
      </p>
      ${fleetAlertTable(rows, live)}
      <p class="pager">
        ${before !== undefined ? html`<a href="${link("/alerts", params)}">newest</a>` : ""}${
          next !== undefined ? html`<a href="${next}">older alerts</a>` : ""
        }
      </p>`;
    return c.html(fleetPage(title, "alerts", body));
  });
}

function filterForm(p: Record<string, string>, hosts: readonly string[]): SafeHtml {
  const select = (name: string, values: readonly string[]) =>
    html`<label
      >${name}<select name="${name}">
        <option value="">any</option>
        ${values.map((v) => html`<option${v === p[name] ? html` selected` : ""}>${v}</option>`)}
      </select></label
    >`;
  const input = (name: string, label: string) =>
    html`<label>${label}<input type="text" name="${name}" value="${p[name] ?? ""}" /></label>`;
  return html`<form class="filters" method="get" action="/alerts">
    ${select("host", hosts)}${select("priority", PRIORITIES)}${input("rule", "rule")}${input(
      "program",
      "program (b-… or s-… identity)",
    )}${input("exe", "path")}<button type="submit">Filter</button>
    <a href="/alerts">clear</a>
  </form>`;
}

/** Alerts of several hosts as a table; `live`: the /events URL whose alerts console.js adds at the top. */
export function fleetAlertTable(rows: readonly FleetAlertView[], live?: string): SafeHtml {
  const body =
    rows.length === 0
      ? html`<tr class="empty">
          <td colspan="6">No alerts.</td>
        </tr>`
      : rows.map(
          (a) =>
            html`<tr data-id="${a.id}">
              <td>${a.time}</td>
              <td><a href="${link("/alerts", { host: a.host })}">${a.host}</a></td>
              <td class="prio prio-${a.priority.toLowerCase()}">${a.priority}</td>
              <td>${a.rule}</td>
              <td>${a.exe !== null ? html`<a href="${link("/alerts", { exe: a.exe })}">${a.name}</a>` : "-"}</td>
              <td>
                ${a.output}${a.window.length > 0 ? html`<br /><code class="window">${a.window.join(" ")}</code>` : ""}
              </td>
            </tr>`,
        );
  return html`<table
    id="alerts-table"
    data-columns="time host priority rule exe output"
    ${live !== undefined ? html` data-events="${live}"` : ""}
  >
    <thead>
      <tr>
        <th>time (UTC)</th>
        <th>host</th>
        <th>priority</th>
        <th>rule</th>
        <th>program</th>
        <th>alert, and the calls before it</th>
      </tr>
    </thead>
    <tbody>
      ${body}
    </tbody>
  </table>`;
}
