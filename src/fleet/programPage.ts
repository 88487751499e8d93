// The Programs page (/programs: every program the hosts keep a profile of, by its content identity, with how many
// hosts run it, their profiles' states and the pooled profile) and the Program page (/program?id=: one program
// across hosts: which hosts run it, at which path, their profiles' states and training, the alerts of each, the
// pooled profile, its newest alerts on every host, and pH-admin's operations for the whole fleet, confirmed first
// and posted with the session's CSRF token, as the single-host console does them).

import type { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import { count, html, isoTime, link, type SafeHtml } from "../serve/html.js";
import { ADMIN_OPS, type AdminOpName } from "./adminOp.js";
import { fleetAlertTable } from "./fleetAlertsPage.js";
import type { FleetConsoleContext } from "./fleetConsoleEnv.js";
import { fleetPage } from "./fleetLayout.js";
import { fleetAlertPage, type PooledView, programDetail, programSummaries } from "./fleetQueries.js";

function operationOf(text: unknown): AdminOpName {
  if (typeof text === "string" && (ADMIN_OPS as readonly string[]).includes(text)) return text as AdminOpName;
  throw new HomeostatError("E_USAGE", `unknown operation (${ADMIN_OPS.join(", ")})`);
}

function detailOf(ctx: FleetConsoleContext, id: string) {
  const d = programDetail(ctx.store, id);
  if (d === undefined) throw new HomeostatError("E_NOT_FOUND", `no host has a profile of program ${id}`);
  return d;
}

export function registerPrograms(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  registerProgramList(app, ctx);
  registerProgramDetail(app, ctx);
  registerProgramAdmin(app, ctx);
}

function registerProgramList(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/programs", (c) => {
    const rows = ctx.store.snapshot(() => programSummaries(ctx.store));
    const body = html`<h1>Programs</h1>
      <table id="programs-table">
        <thead>
          <tr>
            <th>program</th>
            <th>names</th>
            <th class="n">hosts</th>
            <th class="n">training</th>
            <th class="n">frozen</th>
            <th class="n">normal</th>
            <th>pooled</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr class="empty">
                  <td colspan="7">No profile snapshot yet.</td>
                </tr>`
              : rows.map(
                  (p) =>
                    html`<tr>
                      <td>
                        <a href="${link("/program", { id: p.program })}"><code>${p.program}</code></a>
                      </td>
                      <td>${p.names.join(", ")}</td>
                      <td class="n">${count(p.hosts)}</td>
                      <td class="n">${count(p.states.training ?? 0)}</td>
                      <td class="n">${count(p.states.frozen ?? 0)}</td>
                      <td class="n">${count(p.states.normal ?? 0)}</td>
                      <td>${p.pooled === null ? "-" : `${p.pooled.state} (${p.pooled.hosts.length} hosts)`}</td>
                    </tr>`,
                )
          }
        </tbody>
      </table>`;
    return c.html(fleetPage("Programs", "programs", body));
  });
}

function registerProgramDetail(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/program", (c) => {
    const id = c.req.query("id") ?? "";
    const { d, alerts } = ctx.store.snapshot(() => ({
      d: detailOf(ctx, id),
      alerts: fleetAlertPage(ctx.store, { program: id }, undefined, 20).rows,
    }));
    const done = c.req.query("done");
    const name = d.hosts[0]!.path.slice(d.hosts[0]!.path.lastIndexOf("/") + 1);
    const body = html`<h1>${name} <code>${d.program}</code></h1>
      ${done !== undefined ? html`<p class="flash">${done}</p>` : ""}
      <h2>Hosts</h2>
      <table id="program-hosts">
        <thead>
          <tr>
            <th>host</th>
            <th>path</th>
            <th>model</th>
            <th>state</th>
            <th class="n">training calls</th>
            <th class="n">version</th>
            <th>snapshot (UTC)</th>
            <th class="n">alerts</th>
          </tr>
        </thead>
        <tbody>
          ${d.hosts.map(
            (h) =>
              html`<tr data-host="${h.host}">
                <td>${h.host}</td>
                <td><code>${h.path}</code></td>
                <td>${h.model}</td>
                <td>${h.state}</td>
                <td class="n">${count(h.trainCount)}</td>
                <td class="n">${h.version}</td>
                <td>${isoTime(h.time)}</td>
                <td class="n"><a href="${link("/alerts", { host: h.host, exe: h.path })}">${count(h.alerts)}</a></td>
              </tr>`,
          )}
        </tbody>
      </table>
      <h2>Pooled profile</h2>
      ${pooledText(d.pooled)} ${ctx.admin !== undefined ? adminButtons(d.program) : ""}
      <h2>Newest alerts</h2>
      ${fleetAlertTable(alerts)}
      <p><a href="${link("/alerts", { program: d.program })}">All its alerts</a></p>`;
    return c.html(fleetPage(name, "programs", body));
  });
}

function pooledText(p: PooledView | null): SafeHtml {
  if (p === null) return html`<p class="note">Not pooled (fleet serve --pool pools programs on two hosts or more).</p>`;
  return html`<p id="pooled">
    <b>${p.state}</b>: ${p.model} merged from ${p.hosts.join(", ")}, ${count(p.trainCount)} training calls, version
    ${p.version}, pooled ${isoTime(p.time)}.
  </p>`;
}

function adminButtons(program: string): SafeHtml {
  return html`<h2>Every host's profile</h2>
    <p>
      ${ADMIN_OPS.map(
        (op) =>
          html`<form class="inline" method="get" action="/program/confirm">
            <input type="hidden" name="id" value="${program}" /><input type="hidden" name="op" value="${op}" /><button
              type="submit"
            >
              ${op}
            </button>
          </form>`,
      )}
    </p>`;
}

function registerProgramAdmin(app: Hono<ConsoleEnv>, ctx: FleetConsoleContext): void {
  app.get("/program/confirm", (c) => {
    const id = c.req.query("id") ?? "";
    const op = operationOf(c.req.query("op"));
    const d = detailOf(ctx, id);
    if (ctx.admin === undefined) throw new HomeostatError("E_USAGE", `this console is read-only`);
    const body = html`<h1>${op} <code>${id}</code> on every host?</h1>
      <p>
        ${count(d.hosts.length)} hosts have a profile of it. <b>${op}</b> is put in the fleet's admin bucket; every
        watch with --fleet applies it to its profiles of this program.
      </p>
      <form method="post" action="/program/admin">
        <input type="hidden" name="id" value="${id}" /><input type="hidden" name="op" value="${op}" /><input
          type="hidden"
          name="csrf"
          value="${c.get("csrf")}"
        />
        <button type="submit" class="danger" id="confirm">Yes, ${op} it everywhere</button>
        <a href="${link("/program", { id })}">cancel</a>
      </form>`;
    return c.html(fleetPage(`${op} ${id}`, "programs", body));
  });

  app.post("/program/admin", async (c) => {
    const form = await c.req.parseBody();
    if (!ctx.allowPost(c, form.csrf)) {
      return c.text("refused: this form needs the console's CSRF token and the console's own origin", 403);
    }
    const id = typeof form.id === "string" ? form.id : "";
    const op = operationOf(form.op);
    detailOf(ctx, id);
    if (ctx.admin === undefined) throw new HomeostatError("E_USAGE", `this console is read-only`);
    const put = await ctx.admin(id, op);
    return c.redirect(link("/program", { id, done: `${op} sent to every host (operation ${put.id})` }), 303);
  });
}
