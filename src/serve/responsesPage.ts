// The Responses page (/responses): what the responder did, newest first: processes delayed (paused and resumed),
// killed, execve suspended, and the refusals and dry runs, each with its reason; filtered by kind, paged by id.

import type { Hono } from "hono";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { html, isoTime, link } from "./html.js";
import { page } from "./layout.js";
import { responsePage } from "./responseQueries.js";

const KINDS = ["delay", "kill", "suspend-execve"];

export function registerResponses(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/responses", (c) => {
    const kind = c.req.query("action");
    const action = kind !== undefined && KINDS.includes(kind) ? kind : undefined;
    const beforeText = c.req.query("before");
    const before = beforeText !== undefined && /^\d{1,15}$/.test(beforeText) ? Number(beforeText) : undefined;
    const { rows, more } = responsePage(ctx.store, action !== undefined ? { action } : {}, before);
    const next = more ? link("/responses", { action, before: rows[rows.length - 1]!.id }) : undefined;
    const body = html`<h1>Responses</h1>
      <p>
        ${[undefined, ...KINDS].map((k) => html`<a href="${link("/responses", { action: k })}">${k ?? "all"}</a>${k === action ? " (shown)" : ""} `)}
      </p>
      <table id="responses-table">
        <thead>
          <tr>
            <th>time (UTC)</th>
            <th>action</th>
            <th>outcome</th>
            <th class="n">pid</th>
            <th>program</th>
            <th>why</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan="6">No responses.</td>
                </tr>`
              : rows.map(
                  (r) =>
                    html`<tr>
                      <td>${isoTime(r.time)}</td>
                      <td>${r.action}</td>
                      <td>${r.outcome}</td>
                      <td class="n">${r.pid}</td>
                      <td><code>${r.exe ?? "-"}</code></td>
                      <td>${r.reason}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>
      <p class="pager">
        ${before !== undefined ? html`<a href="${link("/responses", { action })}">newest</a>` : ""}${next !== undefined ? html`<a href="${next}">older responses</a>` : ""}
      </p>`;
    return c.html(page({ title: "Responses", nav: "responses", body }));
  });
}
