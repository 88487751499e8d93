// The Profiles page (/profiles): every profile, searched (q), filtered by state, sorted by a column (sort, dir) and
// paged (page), all through query parameters, so that links and a plain GET form do it without JavaScript.

import type { Context, Hono } from "hono";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { count, html, isoTime, link, type SafeHtml } from "./html.js";
import { page } from "./layout.js";
import {
  listProfiles,
  PAGE_SIZE,
  PROFILE_SORTS,
  type ProfileListQuery,
  type ProfileRow,
  type ProfileSort,
} from "./profileQueries.js";

const STATES = ["training", "frozen", "normal"];

const COLUMNS: readonly [ProfileSort, string, boolean][] = [
  ["program", "program", false],
  ["state", "state", false],
  ["training", "training calls", true],
  ["since", "calls since last change", true],
  ["anomalies", "anomalies", true],
  ["lastAlert", "last alert", false],
];

/** The list query the parameters name; anything unknown falls back to the default. */
export function profileQueryOf(c: Context<ConsoleEnv>): ProfileListQuery {
  const sort = c.req.query("sort") ?? "program";
  const state = c.req.query("state");
  const pageText = c.req.query("page") ?? "1";
  return {
    search: (c.req.query("q") ?? "").slice(0, 200),
    ...(state !== undefined && STATES.includes(state) ? { state } : {}),
    sort: Object.hasOwn(PROFILE_SORTS, sort) ? (sort as ProfileSort) : "program",
    descending: c.req.query("dir") === "desc",
    page: /^[1-9]\d{0,6}$/.test(pageText) ? Number(pageText) : 1,
  };
}

export function registerProfiles(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/profiles", (c) => {
    const q = profileQueryOf(c);
    const { rows, total } = listProfiles(ctx.store, q);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const params = { q: q.search, state: q.state, sort: q.sort, dir: q.descending ? "desc" : undefined };
    const pager = html`<p class="pager">
      ${q.page > 1 ? html`<a href="${link("/profiles", { ...params, page: q.page - 1 })}">previous</a>` : ""}page
      ${q.page} of ${pages} (${count(total)}
      profiles)${q.page < pages ? html` <a href="${link("/profiles", { ...params, page: q.page + 1 })}">next</a>` : ""}
    </p>`;
    const body = html`<h1>Profiles</h1>
      <form class="filters" method="get" action="/profiles">
        <label>search<input type="search" name="q" value="${q.search ?? ""}" /></label>
        <label
          >state<select name="state">
            <option value="">any</option>
            ${STATES.map((s) => html`<option${s === q.state ? html` selected` : ""}>${s}</option>`)}
          </select></label
        >
        <input
          type="hidden"
          name="sort"
          value="${q.sort}"
        />${q.descending ? html`<input type="hidden" name="dir" value="desc" />` : ""}<button type="submit">
          Search
        </button>
      </form>
      ${profileTable(rows, q, params)}${pager}`;
    return c.html(page({ title: "Profiles", nav: "profiles", body }));
  });
}

function profileTable(
  rows: readonly ProfileRow[],
  q: ProfileListQuery,
  params: Record<string, string | undefined>,
): SafeHtml {
  const head = COLUMNS.map(([sort, label, numeric]) => {
    const descending = sort === q.sort ? !q.descending : numeric || sort === "lastAlert";
    const arrow = sort === q.sort ? (q.descending ? " ▼" : " ▲") : "";
    const href = link("/profiles", { ...params, sort, dir: descending ? "desc" : undefined });
    return html`<th${numeric ? html` class="n"` : ""}><a href="${href}">${label}${arrow}</a></th>`;
  });
  const body =
    rows.length === 0
      ? html`<tr>
          <td colspan="6">No profiles.</td>
        </tr>`
      : rows.map(
          (r) =>
            html`<tr>
              <td><a href="${link("/profile", { key: r.key })}">${r.name}</a><br /><code>${r.exe}</code></td>
              <td>${r.state}</td>
              <td class="n">${count(r.trainCount)}</td>
              <td class="n">${count(r.lastModCount)}</td>
              <td class="n">${count(r.anomalies)}</td>
              <td>${r.lastAlertTime !== null ? html`${isoTime(r.lastAlertTime)}<br />${r.lastAlertRule}` : "-"}</td>
            </tr>`,
        );
  return html`<table id="profiles-table">
    <thead>
      <tr>
        ${head}
      </tr>
    </thead>
    <tbody>
      ${body}
    </tbody>
  </table>`;
}
