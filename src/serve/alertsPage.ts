// The Alerts page (/alerts): alerts filtered by rule, priority, program and time through query parameters (a plain
// GET form, so it works without JavaScript), newest first, paged by id; each with the window of calls before it.
// With JavaScript, rows for new alerts are added as the /events stream announces them (liveEvents.ts).

import type { Context, Hono } from "hono";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { type AlertFilter, type AlertView, alertChoices, alertPage, lastAlertId } from "./alertQueries.js";
import { html, link, type SafeHtml } from "./html.js";
import { page } from "./layout.js";

/** The filter the query parameters name (unknown or malformed values are left out). */
export function alertFilterOf(c: Context<ConsoleEnv>): AlertFilter {
  const q = (name: string) => {
    const v = c.req.query(name);
    return v === undefined || v === "" ? undefined : v;
  };
  return {
    ...optional("rule", q("rule")),
    ...optional("priority", q("priority")),
    ...optional("program", q("program")),
    ...optional("key", q("key")),
    ...optional("from", epochOf(q("from"))),
    ...optional("to", epochOf(q("to"))),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** "2024-05-01T10:00" (UTC, as a datetime-local input sends it), a full ISO time, or epoch seconds. */
export function epochOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

export function registerAlerts(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/alerts", (c) => {
    const f = alertFilterOf(c);
    const beforeText = c.req.query("before");
    const before = beforeText !== undefined && /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : undefined;
    const { rows, more, after, choices } = ctx.store.snapshot(() => ({
      ...alertPage(ctx.store, f, before),
      after: lastAlertId(ctx.store),
      choices: alertChoices(ctx.store),
    }));
    const params = filterParams(c);
    const live = before === undefined ? link("/events", { ...params, after }) : undefined;
    const next = more ? link("/alerts", { ...params, before: rows[rows.length - 1]!.id }) : undefined;
    const body = html`<h1>Alerts</h1>
      ${filterForm(params, choices)}
      <p id="live-status" class="note">
        ${live !== undefined ? "Newest first." : "Older alerts: live updates are on the first page."}
      </p>
      ${alertTable(rows, live)}
      <p class="pager">
        ${before !== undefined ? html`<a href="${link("/alerts", params)}">newest</a>` : ""}${next !== undefined ? html`<a href="${next}">older alerts</a>` : ""}
      </p>`;
    return c.html(page({ title: "Alerts", nav: "alerts", body }));
  });
}

function filterParams(c: Context<ConsoleEnv>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ["rule", "priority", "program", "key", "from", "to"]) {
    const v = c.req.query(k);
    if (v !== undefined && v !== "") out[k] = v;
  }
  return out;
}

function filterForm(p: Record<string, string>, choices: { rules: string[]; priorities: string[] }): SafeHtml {
  const select = (name: string, label: string, values: string[]) =>
    html`<label
      >${label}<select name="${name}">
        <option value="">any</option>
        ${values.map((v) => html`<option${v === p[name] ? html` selected` : ""}>${v}</option>`)}
      </select></label
    >`;
  const input = (name: string, label: string, type = "text") =>
    html`<label>${label}<input type="${type}" name="${name}" value="${p[name] ?? ""}" /></label>`;
  return html`<form class="filters" method="get" action="/alerts">
    ${select("rule", "rule", choices.rules)}${select("priority", "priority", choices.priorities)}${input("program", "program (name or path)")}${input("from", "from (UTC)", "datetime-local")}${input("to", "to (UTC)", "datetime-local")}<button
      type="submit"
    >
      Filter
    </button>
    <a href="/alerts">clear</a>
  </form>`;
}

/** Alerts as a table; `live`: the /events URL whose alerts console.js adds at the top. */
export function alertTable(rows: readonly AlertView[], live?: string): SafeHtml {
  const body =
    rows.length === 0
      ? html`<tr class="empty">
          <td colspan="6">No alerts.</td>
        </tr>`
      : rows.map((a) => alertRow(a));
  return html`<table
    id="alerts-table"
    data-columns="time priority rule program pid output"
    ${live !== undefined ? html` data-events="${live}"` : ""}
  >
    <thead>
      <tr>
        <th>time (UTC)</th>
        <th>priority</th>
        <th>rule</th>
        <th>program</th>
        <th class="n">pid</th>
        <th>alert, and the calls before it</th>
      </tr>
    </thead>
    <tbody>
      ${body}
    </tbody>
  </table>`;
}

function alertRow(a: AlertView): SafeHtml {
  const program =
    a.key !== null ? html`<a href="${link("/profile", { key: a.key })}">${a.program ?? a.key}</a>` : (a.program ?? "-");
  const window = a.window.length > 0 ? html`<br /><code class="window">${a.window.join(" ")}</code>` : "";
  return html`<tr data-id="${a.id}">
    <td>${a.time}</td>
    <td class="prio prio-${a.priority.toLowerCase()}">${a.priority}</td>
    <td>${a.rule}</td>
    <td>${program}</td>
    <td class="n">${a.pid ?? "-"}</td>
    <td>${a.output}${window}</td>
  </tr>`;
}
