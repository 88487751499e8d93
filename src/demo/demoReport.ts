// The demo's HTML page: the per-call locality frame count of each model along a held-out normal session and along
// the exploited session, with each model's alarm threshold, so that one can see the normal session stay under
// the line and the exploit cross it (Hofmeyr et al. 1998 plot LFC the same way).

import { type Chart, escapeHtml, vegaPage } from "../report/vegaPage.js";
import type { DemoResult } from "./demoRun.js";

export function renderDemoReport(r: DemoResult): string {
  const thresholds = r.models.map((m) => ({ model: m.model, threshold: m.threshold }));
  const chart: Chart = {
    id: "chart-timeline",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Locality frame count per call (anomalous calls among the last 20), by model",
      facet: {
        row: { field: "model", type: "nominal", title: null },
        column: { field: "session", type: "nominal", title: null, sort: ["normal", "exploit"] },
      },
      resolve: { scale: { x: "independent" } },
      data: {
        values: r.timeline.map((p) => ({ ...p, threshold: thresholds.find((t) => t.model === p.model)!.threshold })),
      },
      spec: {
        width: 420,
        height: 110,
        layer: [
          {
            mark: { type: "line", interpolate: "step-after" },
            encoding: {
              x: { field: "call", type: "quantitative", title: "call in the session" },
              y: { field: "lfc", type: "quantitative", title: "LFC" },
              tooltip: [{ field: "call" }, { field: "syscall" }, { field: "lfc" }],
            },
          },
          {
            mark: { type: "rule", color: "#e45756", strokeDash: [4, 3] },
            encoding: { y: { aggregate: "max", field: "threshold", type: "quantitative" } },
          },
        ],
      },
    },
  };
  const first = r.firstAlarm;
  const body = [
    "<h1>homeostat demo: a planted overflow, caught by its system calls</h1>",
    `<p class="lead">Trained on ${r.normalSessions} normal sessions (${r.trainingTraces} traces, ${r.trainingCalls} calls); ` +
      `thresholds from ${r.calibrationSessions} more normal sessions; ${r.heldOutSessions} held-out normal sessions raised ` +
      `${r.falseAlarms} alarm${r.falseAlarms === 1 ? "" : "s"}; the exploit was ${r.exploitDetected ? "<b>detected</b>" : "<b>not detected</b>"}.</p>`,
    first === null
      ? ""
      : `<p>First alarm: ${escapeHtml(first.model)}, pid ${first.pid}, call ${first.position}: ` +
        `<code>... ${escapeHtml(first.window.join(", "))}</code></p>`,
    `<p class="note">Timelines: held-out normal session pid ${r.timelinePids.normal ?? "–"}; under the exploit, pid ` +
      `${r.timelinePids.exploit ?? "–"}, the process with the most alarms.</p>`,
    '<div class="chart" id="chart-timeline"></div>',
    "<h2>Models</h2><table><thead><tr><th>model</th><th>profile bytes</th><th>threshold (max normal LFC)</th><th>false alarms</th><th>exploit alarms</th></tr></thead><tbody>",
    ...r.models.map(
      (m) =>
        `<tr><td>${escapeHtml(m.model)}</td><td class="n">${m.profileBytes}</td><td class="n">${m.threshold}</td><td class="n">${m.falseAlarms}</td><td class="n">${m.exploitAlarms}</td></tr>`,
    ),
    "</tbody></table>",
    ...mimicrySection(r),
  ].join("\n");
  return vegaPage("homeostat demo", body, [chart]);
}

/** The mimicry table: per model, what would run the shell's execve unseen, or the proof that nothing can. */
function mimicrySection(r: DemoResult): string[] {
  const m = r.mimicry;
  if (m === null) return [];
  const answer = (row: NonNullable<DemoResult["mimicry"]>["rows"][number]): string => {
    if (row.found)
      return `${row.calls.length} call${row.calls.length === 1 ? "" : "s"}: <code>${escapeHtml(row.calls.join(", "))}</code>`;
    return row.complete
      ? `none: no sequence reaches execve unseen (a proof: ${row.explored} states explored)`
      : `none found within ${row.explored} states (not a proof)`;
  };
  return [
    "<h2>Mimicry: what would run the shell unseen</h2>",
    `<p class="note">Wagner &amp; Soto (2002): an attacker who knows the model pads the exploit with calls that keep it ` +
      `normal. From the calls pid ${m.pid} made before its execve (${m.contextCalls} calls of context, its creator's up ` +
      "to the fork included), the shortest sequence each model finds normal that ends in execve:</p>",
    "<table><thead><tr><th>model</th><th>calls to inject</th></tr></thead><tbody>",
    ...m.rows.map((row) => `<tr><td>${escapeHtml(row.model)}</td><td>${answer(row)}</td></tr>`),
    "</tbody></table>",
  ];
}
