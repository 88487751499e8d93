// One profile's page (/profile?key=...): its figures, lifecycle history, the system calls it learned beside its
// binary's static model, anomalies over time, a heatmap of its bigrams over syscall categories, its seccomp
// allow-list for download, and pH-admin's operations as forms that lead to a confirmation page, whose POST (CSRF
// token, same origin) carries the operation out as `homeostat profiles <op>` does.

import type { Hono } from "hono";
import { HomeostatError } from "../errors.js";
import type { StoredStaticModel } from "../store/stateStore.js";
import { syscallName } from "../engine/hostAlerts.js";
import { alertPage } from "./alertQueries.js";
import { alertTable } from "./alertsPage.js";
import { anomaliesChart, bigramHeatmapChart, categoryBigramCounts } from "./charts.js";
import type { ConsoleContext, ConsoleEnv } from "./consoleEnv.js";
import { count, html, type HtmlValue, isoTime, link, type SafeHtml } from "./html.js";
import { chartDiv, page } from "./layout.js";
import { ADMIN_OPERATIONS, type AdminOperation, learnedModel, profileByKey } from "./profileActions.js";
import { anomaliesPerHour, type HistoryRow, profileHistory } from "./profileQueries.js";
import { registerProfileAdmin } from "./profileAdminRoutes.js";

export const ADMIN_HELP: Readonly<Record<AdminOperation, string>> = {
  normalize: "start normal monitoring now: the training data becomes the normal profile",
  tolerize: "stop normal monitoring and keep training (accept what the program does now)",
  sensitize: "forget the training data, so that recent behaviour is not learned",
  reset: "forget everything: the profile starts training from nothing",
};

export function registerProfile(app: Hono<ConsoleEnv>, ctx: ConsoleContext): void {
  app.get("/profile", (c) => {
    const key = c.req.query("key") ?? "";
    const view = loadView(ctx, key);
    const { s, model } = view;
    const done = c.req.query("done");
    const charts = [anomaliesChart("anomalies", view.perHour)];
    if (model.bigrams !== null) charts.push(bigramHeatmapChart("bigrams", categoryBigramCounts(model.bigrams)));
    const body = html`<h1>${s.exe.slice(s.exe.lastIndexOf("/") + 1)}</h1>
      ${done !== undefined ? html`<p class="flash">${done}</p>` : ""} ${summaryTable(view)}
      <h2>Administer</h2>
      ${adminForms(key)}
      <h2>Lifecycle history</h2>
      ${historyTable(view.history)}
      <h2>System calls</h2>
      ${syscallSection(model.syscalls, view.staticModel)} ${seccompLinks(key, s.state)}
      <h2>Anomalies</h2>
      ${view.perHour.length > 0 ? chartDiv("anomalies") : html`<p class="note">No anomaly alerts.</p>`}
      <h2>Bigrams by syscall category</h2>
      ${
        model.bigrams !== null
          ? chartDiv("bigrams")
          : html`<p class="note">Only pH profiles (lookahead pairs) keep bigrams; this one is ${s.model}.</p>`
      }
      <h2>Latest alerts</h2>
      ${alertTable(view.alerts)}
      <p><a href="${link("/alerts", { key })}">all alerts of this profile</a></p>`;
    return c.html(page({ title: s.exe, nav: "profiles", body, charts }));
  });
  registerProfileAdmin(app, ctx);
}

type ProfileView = ReturnType<typeof loadView>;

/** Everything the page shows, read in one snapshot. */
function loadView(ctx: ConsoleContext, key: string) {
  return ctx.store.snapshot(() => ({
    s: profileByKey(ctx.store, key),
    model: learnedModel(ctx.store, key),
    staticModel: staticModelOf(ctx, key),
    history: profileHistory(ctx.store, key),
    perHour: anomaliesPerHour(ctx.store, key),
    alerts: alertPage(ctx.store, { key }, undefined, 20).rows,
  }));
}

function summaryTable({ s, model }: ProfileView): SafeHtml {
  const row = (label: string, value: HtmlValue, id?: string) =>
    html`<tr><th>${label}</th><td${id !== undefined ? html` id="${id}"` : ""}>${value}</td></tr>`;
  const normalAt = s.state === "frozen" && s.normalTime !== null ? html` (normal at ${isoTime(s.normalTime)})` : "";
  const p = model.profile;
  return html`<table>
    ${row("key", html`<code>${s.key}</code>`)}
    ${row("executable", html`<code>${s.exe}</code> (device ${s.dev}, inode ${s.ino})`)} ${row("model", s.model)}
    ${row("state", html`${s.state}${normalAt}`, "profile-state")}
    ${row(
      "training calls",
      `${count(s.trainCount)}, ${count(s.lastModCount)} since the last change; ${count(p.modelSize())} ${p.modelUnit}`,
    )}
    ${row("anomalies", `${count(s.anomalies)} (limit ${p.settings.anomalyLimit})`)}
    ${row("version", `${s.version}, created ${isoTime(s.createdAt)}, updated ${isoTime(s.updatedAt)}`)}
  </table>`;
}

function seccompLinks(key: string, state: string): SafeHtml {
  const training = state === "normal" ? undefined : "1";
  const warning =
    state !== "normal"
      ? html` <span class="note"
          >(the profile is ${state}, not normal: the list may miss calls the program makes)</span
        >`
      : "";
  return html`<p>
    Seccomp allow-list of what it learned:
    <a href="${link("/profile/seccomp.json", { key, mode: "enforce", training })}">enforce</a> ·
    <a href="${link("/profile/seccomp.json", { key, mode: "log", training })}">log only</a>${warning}
  </p>`;
}

function staticModelOf(ctx: ConsoleContext, key: string): StoredStaticModel | { error: string } | undefined {
  try {
    return ctx.store.loadStaticModel(key);
  } catch (err) {
    if (err instanceof HomeostatError) return { error: err.oneLine() };
    throw err;
  }
}

function adminForms(key: string): SafeHtml {
  return html`<p>
      ${ADMIN_OPERATIONS.map((op) => html`<form class="inline" method="get" action="/profile/confirm"><input type="hidden" name="key" value="${key}" /><input type="hidden" name="op" value="${op}" /><button type="submit" title="${ADMIN_HELP[op]}">${op}</button></form> `)}
    </p>
    <p class="note">
      Each asks for confirmation first. ${ADMIN_OPERATIONS.map((op) => html`<b>${op}</b>: ${ADMIN_HELP[op]}. `)}
    </p>`;
}

function historyTable(rows: readonly HistoryRow[]): SafeHtml {
  if (rows.length === 0)
    return html`<p class="note">No state change recorded (the store records them from schema version 3 on).</p>`;
  return html`<table id="history">
    <tr>
      <th>time (UTC)</th>
      <th>change</th>
      <th>by</th>
      <th class="n">training calls</th>
      <th class="n">anomalies</th>
    </tr>
    ${rows.map(
      (r) =>
        html`<tr>
          <td>${isoTime(r.time)}</td>
          <td>${r.before ?? "(new)"} → ${r.after}</td>
          <td>${r.cause}</td>
          <td class="n">${count(r.trainCount)}</td>
          <td class="n">${count(r.anomalies)}</td>
        </tr>`,
    )}
  </table>`;
}

function syscallSection(
  learned: readonly string[],
  model: StoredStaticModel | { error: string } | undefined,
): SafeHtml {
  const learnedHtml = html`<p>${learned.length} learned: <code>${learned.join(" ") || "-"}</code></p>`;
  if (model === undefined)
    return html`${learnedHtml}
      <p class="note">No static model of its binary (homeostat watch --static derives one).</p>`;
  if ("error" in model)
    return html`${learnedHtml}
      <p class="warn">Its static model cannot be read: ${model.error}</p>`;
  const seen = new Set(learned);
  const names = model.syscalls.map(syscallName);
  const set = new Set(names);
  const unseen = names.filter((n) => !seen.has(n));
  const outside = learned.filter((n) => !set.has(n));
  return html`${learnedHtml}
    <p>
      Its binary can make ${names.length} (${model.complete ? "complete" : "incomplete"} static model, analysed
      ${isoTime(model.analysedAt)}).
    </p>
    <p id="unseen">${unseen.length} it could make but was never seen making: <code>${unseen.join(" ") || "-"}</code></p>
    ${outside.length > 0 ? html`<p class="warn">${outside.length} learned but outside the static model: <code>${outside.join(" ")}</code></p>` : ""}`;
}
