// The overview's account of watch runs: whether a watch is running on the state directory now (the writer lock's
// holder) and since when, the newest runs the store recorded (each watch writes its row at its start, updates its
// figures with its periodic saves, and writes its summary at its end), and the facts of the last run that ended.
// A run whose row was never ended and whose watch no longer holds the lock was killed (or its host stopped).

import type { StoredRun } from "../store/stateStore.js";
import { count, html, isoTime, type SafeHtml } from "./html.js";

export interface RunsView {
  /** The watch holding the writer lock now. */
  running: { pid: number; since: number } | null;
  /** The newest runs, newest first. */
  runs: readonly StoredRun[];
}

/** Whether this row is the watch running now: the newest row, not ended, of the pid holding the lock. */
function isRunning(r: StoredRun, v: RunsView): boolean {
  return r.endedAt === null && v.running !== null && v.running.pid === r.pid && r.id === v.runs[0]?.id;
}

/** Events per second over the time the row's figures cover (to its end, or to its last update while running). */
function eventRate(r: StoredRun): number {
  const seconds = (r.endedAt ?? r.updatedAt) - r.startedAt;
  return seconds > 0 ? r.events / seconds : 0;
}

export function runsSection(v: RunsView): SafeHtml {
  const status = v.running
    ? html`<p class="flash" id="watch-status">
        homeostat watch is running (pid ${v.running.pid}) since ${isoTime(v.running.since)}.
      </p>`
    : html`<p class="warn" id="watch-status">No homeostat watch is running on this state directory.</p>`;
  if (v.runs.length === 0)
    return html`${status}
      <p class="note">No watch run recorded in the store yet.</p>`;
  const last = v.runs.find((r) => r.endedAt !== null);
  return html`${status}${runTable(v)}${last !== undefined ? lastRunFacts(last) : ""}`;
}

function runTable(v: RunsView): SafeHtml {
  const rows = v.runs.map((r) => {
    const state = isRunning(r, v)
      ? html`<b>running</b> (figures of ${isoTime(r.updatedAt)})`
      : r.endedAt !== null
        ? isoTime(r.endedAt)
        : html`never ended (killed?), last seen ${isoTime(r.updatedAt)}`;
    return html`<tr data-run="${r.id}">
      <td>#${r.id} (pid ${r.pid})</td>
      <td>${r.backend}</td>
      <td>${isoTime(r.startedAt)}</td>
      <td>${state}</td>
      <td class="n">${count(r.events)}</td>
      <td class="n">${count(eventRate(r))}</td>
      <td class="n">${count(r.lost)}</td>
      <td class="n">${count(r.alerts)}</td>
    </tr>`;
  });
  return html`<table id="runs">
    <tr>
      <th>run</th>
      <th>backend</th>
      <th>started</th>
      <th>ended</th>
      <th class="n">events</th>
      <th class="n">events/s</th>
      <th class="n">lost</th>
      <th class="n">alerts</th>
    </tr>
    ${rows}
  </table>`;
}

/** A number at `path` in a summary (JSON from any version of watch: absent or odd fields are left out). */
function numberAt(summary: unknown, ...path: string[]): number | undefined {
  let v: unknown = summary;
  for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** The summary the last ended run wrote: what it saved, stored, dropped and did, or why it failed. */
function lastRunFacts(r: StoredRun): SafeHtml {
  const s = r.summary as Record<string, unknown> | null;
  if (s !== null && typeof s === "object" && typeof s.failed === "string") {
    return html`<p class="warn" id="last-run">Run #${r.id} failed: ${s.failed}</p>`;
  }
  const facts: [string, number | undefined][] = [
    ["events processed", numberAt(s, "monitor", "processed")],
    ["profiles", numberAt(s, "monitor", "profiles")],
    ["profile saves", numberAt(s, "saves")],
    ["profiles saved", numberAt(s, "profilesSaved")],
    ["alerts stored", numberAt(s, "alertsStored")],
    ["actions stored", numberAt(s, "actionsStored")],
    ["records dropped (store too slow)", numberAt(s, "queueDropped")],
    ["profiles reloaded (changed by an administrator)", numberAt(s, "reloaded")],
    ["processes killed", numberAt(s, "responder", "killed")],
    ["command exit code", numberAt(s, "command", "exitCode")],
  ];
  const shown = facts.filter((f): f is [string, number] => f[1] !== undefined);
  if (shown.length === 0) return html``;
  return html`<p class="note" id="last-run">
    Last run that ended (#${r.id}, ${isoTime(r.startedAt)} to ${isoTime(r.endedAt)}):
    ${shown.map(([label, n], i) => html`${i > 0 ? ", " : ""}${label} ${count(n)}`)}.
  </p>`;
}
