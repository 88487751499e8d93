// The `homeostat eval --dataset scenarios --report` page: homeostat's benchmark of real programs, one LID-DS
// 2021-style scenario per program, one model per program. Top: the protocol and its rules, the programs, the summary
// per model across programs (macro-averages, worst and best program named), a programs x models AUC table and a
// chart of each program's AUC per model. Then one section per program: the eval report of that program's run
// (htmlReport.ts's body, its chart ids prefixed and its headings moved one level down). One self-contained page,
// like every report; every figure comes from the ScenariosEvalResult as given.

import type { ScenariosEvalResult } from "../eval/scenariosResult.js";
import type { ModelSummary, ProgramStat } from "../eval/scenariosSummary.js";
import { EVAL_REPORT_STYLE, evalReportBody } from "./htmlReport.js";
import { type Cell, DASH, fix, int, pct, secs, tableHtml } from "./htmlTable.js";
import { type Chart, escapeHtml, vegaPage } from "./vegaPage.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** A mean, with "(k of N)" when it is over fewer programs than all. */
function meanCell(s: ProgramStat, all: number, format: (x: number) => string): Cell {
  return { n: s.programs < all ? `${format(s.mean)} (${s.programs} of ${all})` : format(s.mean) };
}

/** The lowest or highest value with its program. */
function extremeCell(value: number, program: string, format: (x: number) => string): Cell {
  if (!Number.isFinite(value)) return { n: DASH };
  return { numeric: true, html: `${escapeHtml(format(value))}<span class="sub">${escapeHtml(program)}</span>` };
}

function summaryRow(m: ModelSummary, all: number): Cell[] {
  const cl = m.callLevel;
  const dr = (target: number): Cell => {
    const s = m.dr_at_far.find((d) => Math.abs(d.target - target) < 1e-12);
    return s === undefined ? { n: DASH } : meanCell(s, all, pct);
  };
  return [
    m.name,
    m.score,
    meanCell(m.auc, all, (x) => fix(x, 4)),
    meanCell(m.aucWithoutDataOnly, all, (x) => fix(x, 4)),
    extremeCell(m.auc.min, m.auc.minProgram, (x) => fix(x, 4)),
    extremeCell(m.auc.max, m.auc.maxProgram, (x) => fix(x, 4)),
    meanCell(m.far_at_dr90, all, pct),
    extremeCell(m.far_at_dr90.max, m.far_at_dr90.maxProgram, pct),
    dr(0.01),
    dr(0.05),
    dr(0.1),
    meanCell(m.detectionRate, all, pct),
    meanCell(m.falseAlarmRate, all, pct),
    meanCell(m.falseAlarms, all, (x) => fix(x, 1)),
    cl === undefined ? { n: DASH } : meanCell(cl.detectionRate, all, pct),
    cl === undefined ? { n: DASH } : meanCell(cl.cfa, all, (x) => fix(x, 1)),
    cl === undefined ? { n: DASH } : meanCell(cl.delaySeconds, all, (x) => fix(x, 3)),
  ];
}

function summaryHtml(result: ScenariosEvalResult): string {
  const all = result.summary.programs;
  const header = [
    "model",
    "score",
    "#mean AUC",
    "#mean AUC w/o data-only attacks",
    "#min AUC",
    "#max AUC",
    "#mean FAR @ DR 90%",
    "#max FAR @ DR 90%",
    "#DR @ FAR 1%",
    "#DR @ FAR 5%",
    "#DR @ FAR 10%",
    "#DR at threshold",
    "#FAR at threshold",
    "#false alarms",
    "#call level: DR",
    "#CFA",
    "#delay (s)",
  ];
  return [
    `<h2>Summary: one model per program, macro-averages over ${escapeHtml(int(all))} programs</h2>`,
    tableHtml(
      header,
      result.summary.models.map((m) => ({ cells: summaryRow(m, all) })),
      "summary",
    ),
    '<p class="note">Every figure is first computed per program (its own model, threshold and test recordings), ' +
      "then averaged over programs, each weighing the same. Min and max name their program. Data-only attacks change " +
      "what a program reads or writes, not which calls it makes: no model of call sequences can see them, so the AUC " +
      "is also given without them. DR = detection rate, " +
      "FAR = false-alarm rate (AUC and the DR/FAR points are threshold-free; the rest is at the threshold set on each " +
      "program's validation recordings); false alarms = normal test recordings alarmed; call level, CFA (consecutive " +
      "false alarms) and delay (median seconds from the exploit to the first alarm) as LID-DS counts them. " +
      `"(k of N)": a mean over the k programs where the figure is defined. ${DASH} = undefined.</p>`,
  ].join("\n");
}

/** Programs as rows, models as columns: each program's AUC, with links to the program's section. */
function aucTableHtml(result: ScenariosEvalResult): string {
  const models = result.summary.models;
  const rows = result.programs.map((p, i) => ({
    cells: [
      { html: `<a href="#program-${i + 1}">${escapeHtml(p.name)}</a>` },
      ...models.map((m): Cell => ({ n: fix(p.result.models.find((r) => r.name === m.name)?.auc ?? Number.NaN, 4) })),
    ],
  }));
  rows.push({ cells: [{ html: "<b>mean</b>" }, ...models.map((m): Cell => ({ n: fix(m.auc.mean, 4) }))] });
  return ["<h2>AUC per program</h2>", tableHtml(["program", ...models.map((m) => `#${m.name}`)], rows)].join("\n");
}

/** Attacks as rows (data-only ones marked), models as columns: the AUC of that attack's recordings. */
function attackTableHtml(result: ScenariosEvalResult): string {
  const models = result.summary.models;
  const rows = result.programs.flatMap((p) =>
    (p.result.models[0]?.per_attack ?? []).map((a) => ({
      cells: [
        p.name,
        p.dataOnlyAttacks?.includes(a.type) === true ? `${a.type} (data-only)` : a.type,
        ...models.map((m): Cell => {
          const r = p.result.models.find((x) => x.name === m.name)?.per_attack.find((x) => x.type === a.type);
          return { n: fix(r?.auc ?? Number.NaN, 4) };
        }),
      ],
    })),
  );
  return [
    "<h2>AUC per attack</h2>",
    '<p class="note">Each attack\'s recordings against every normal test recording of its program.</p>',
    tableHtml(["program", "attack", ...models.map((m) => `#${m.name}`)], rows),
  ].join("\n");
}

/** Each program's AUC per model, one row of dots per program. */
function aucChart(result: ScenariosEvalResult): Chart {
  const values = result.programs.flatMap((p) =>
    p.result.models.map((m) => ({ program: p.name, model: m.name, auc: m.auc })),
  );
  return {
    id: "chart-scenarios-auc",
    spec: {
      $schema: SCHEMA,
      title: "AUC of each program's model",
      data: { values },
      width: 480,
      height: { step: 22 },
      mark: { type: "point", filled: true, size: 80 },
      encoding: {
        y: { field: "program", type: "nominal", sort: result.programs.map((p) => p.name), title: null },
        x: { field: "auc", type: "quantitative", title: "AUC", scale: { domain: [0, 1] } },
        color: { field: "model", type: "nominal", sort: result.summary.models.map((m) => m.name) },
        tooltip: [{ field: "program" }, { field: "model" }, { field: "auc", format: ".4f" }],
      },
    },
  };
}

function headerHtml(result: ScenariosEvalResult): string {
  const p = result.protocol;
  const d = result.dataset;
  const t = p.threshold;
  const threshold =
    t.method === "far" ? `score quantile for a ${pct(t.far ?? Number.NaN)} false-alarm rate` : "largest score";
  const meta: [string, string][] = [
    [
      "data",
      `<code>${escapeHtml(d.path)}</code> (${d.manifest ? "scenarios.json" : "its subfolders: no scenarios.json"})`,
    ],
    ["programs", result.programs.map((x, i) => `<a href="#program-${i + 1}">${escapeHtml(x.name)}</a>`).join(", ")],
    ...(d.skipped.length > 0
      ? [
          [
            "skipped",
            escapeHtml(d.skipped.map((s) => `${s.name ?? "?"}${s.reason ? ` (${s.reason})` : ""}`).join("; ")),
          ] as [string, string],
        ]
      : []),
    ["models", escapeHtml([...p.models, ...(p.ensemble !== undefined ? [`ensemble(${p.ensemble})`] : [])].join(", "))],
    ["threshold", escapeHtml(`${threshold} on ${t.calibration}`)],
    ["seed", escapeHtml(String(p.seed) + (d.seed !== undefined ? ` (builder seed ${d.seed})` : ""))],
    [
      "time",
      `${escapeHtml(secs(result.totalSeconds))} s in all, ${escapeHtml(secs(result.loadSeconds))} s reading the inputs`,
    ],
    ["run", `homeostat ${escapeHtml(result.homeostat)}, started ${escapeHtml(result.startedAt)}`],
  ];
  return [
    `<header><h1>homeostat eval: scenarios (${escapeHtml(int(result.programs.length))} programs)${p.strict ? "" : ` (${escapeHtml(p.variant ?? "not strict")})`}</h1>`,
    `<p class="lead">${escapeHtml(p.description)}</p>`,
    `<dl class="meta">${meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    `<h3>Rules that keep these figures honest</h3><ul class="rules">${p.rules.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`,
    "</header>",
  ].join("\n");
}

const SCENARIOS_STYLE = `
section.program { margin-top: 48px; padding-top: 8px; border-top: 3px solid #cfd4db; }
section.program header h2 { font-size: 1.45em; border: none; }
`;

/** The page: the summary across programs, then one section per program. */
export function renderScenariosReport(result: ScenariosEvalResult): string {
  const parts = [
    headerHtml(result),
    summaryHtml(result),
    aucTableHtml(result),
    attackTableHtml(result),
    '<div class="chart" id="chart-scenarios-auc"></div>',
  ];
  const charts: Chart[] = [aucChart(result)];
  result.programs.forEach((p, i) => {
    const body = evalReportBody(p.result, {
      idPrefix: `p${i + 1}-`,
      title: `program ${p.name}${p.image !== undefined ? ` (${p.image})` : ""}`,
      headingShift: 1,
    });
    parts.push(`<section class="program" id="program-${i + 1}">${body.html}</section>`);
    charts.push(...body.charts);
  });
  const title = `homeostat eval: scenarios (${result.programs.length} programs)`;
  return vegaPage(title, parts.join("\n"), charts, { style: EVAL_REPORT_STYLE + SCENARIOS_STYLE });
}
