/// <reference lib="dom" />
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { confusionOfPredictions, confusionRates } from "../eval/confusion.js";
import { runExperiment, type EvalUnit } from "../eval/experiment.js";
import { EVAL_SCHEMA, type EvalResult, type KfoldRow } from "../eval/evalResult.js";
import { stratifiedKFold } from "../eval/kfold.js";
import { toJsonSafe } from "../eval/metricJson.js";
import { SeededRandom } from "../models/random.js";
import { renderHtmlReport } from "./htmlReport.js";
import { chartsSettled, haveChromium, openReport } from "./testing/headlessPage.js";
import { escapeHtml, inlineScript, scriptJson } from "./vegaPage.js";

const HOSTILE = "<script>alert(1)</script>";
const ATTACK_TYPES = ["Hydra_FTP", "Web_Shell", `x${HOSTILE}`];

/**
 * A small but real eval run: normal recordings cycle through a few call patterns with noise; attack recordings
 * behave normally until an attack time, then (per type) insert foreign calls, loop on a rare pair, or drop into a
 * burst of one call. Every unit has timestamps, so the run has LID-DS call-level figures. A supervised k-fold table
 * is drawn from noisy predictions with one silent fold (no predicted attacks: precision undefined, NaN). One model
 * gets a hostile name and one model an attack type with no test traces (NaN rate and AUC).
 */
function evalFixture(seed: number): EvalResult {
  const rng = new SeededRandom(seed);
  const recording = (name: string, type?: string): EvalUnit => {
    const n = 60 + rng.nextInt(80);
    const calls = new Uint16Array(n);
    const times = new Float64Array(n);
    const start = type === undefined ? n : 10 + rng.nextInt(n - 20);
    for (let i = 0; i < n; i++) {
      times[i] = i * 0.002 + rng.next() * 0.001;
      let c = (i + rng.nextInt(2)) % 5;
      if (rng.next() < 0.004) c = 5; // rare but normal
      if (i >= start) {
        const u = rng.next();
        if (type === ATTACK_TYPES[0] && u < 0.03)
          c = 6 + rng.nextInt(3); // a few foreign calls
        else if (type === ATTACK_TYPES[1] && u < 0.03)
          c = 5; // the rare normal call, more often
        else if (type === ATTACK_TYPES[2] && u < 0.15) c = (c + 3) % 5; // known calls, out of order
      }
      calls[i] = c;
    }
    const unit: EvalUnit = { name, traces: [{ calls, times }], attack: type !== undefined };
    if (type !== undefined) {
      unit.attackType = type;
      unit.attackTime = times[start]!;
    }
    return unit;
  };
  const train = Array.from({ length: 25 }, (_, i) => recording(`train-${i}`).traces[0]!.calls);
  const calibration = Array.from({ length: 8 }, (_, i) => recording(`cal-${i}`));
  const normal = Array.from({ length: 30 }, (_, i) => recording(`normal-${i}`));
  const attacks = Array.from({ length: 15 }, (_, i) => recording(`attack-${i}`, ATTACK_TYPES[i % 3]));
  const models = runExperiment(
    { train, calibration, test: [...normal, ...attacks] },
    { models: ["stide:k=3", "ngram:n=3", "lookahead"], threshold: { method: "far", far: 0.1 }, seed, ensemble: "rank" },
  );
  models[1]!.name = `ngram:n=3 </script>${HOSTILE}`;
  models[2]!.per_attack.push({
    type: "no_test_traces",
    traces: 0,
    detected: 0,
    detectionRate: Number.NaN,
    auc: Number.NaN,
  });

  const labels = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? 1 : 0));
  const folds = stratifiedKFold(labels, 4, seed);
  const kRow = (fold: number, truth: number[], predicted: number[]): KfoldRow => {
    const c = confusionOfPredictions(truth, predicted);
    const r = confusionRates(c);
    return { fold, n: truth.length, ...c, precision: r.precision, recall: r.recall, accuracy: r.accuracy };
  };
  const allTruth: number[] = [];
  const allPredicted: number[] = [];
  const rows = folds.map((f, fi) => {
    const truth = Array.from(f.test, (i) => labels[i]!);
    const silent = fi === folds.length - 1;
    const predicted = truth.map((t) => (silent ? 0 : rng.next() < (t === 1 ? 0.8 : 0.1) ? 1 : 0));
    allTruth.push(...truth);
    allPredicted.push(...predicted);
    return kRow(fi + 1, truth, predicted);
  });

  const split = (name: string, units: readonly { traces: { calls: Uint16Array }[] }[]) => ({
    name,
    traces: units.length,
    calls: units.reduce((s, u) => s + u.traces[0]!.calls.length, 0),
  });
  return {
    schema: EVAL_SCHEMA,
    homeostat: "0.0.0-test",
    startedAt: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)).toISOString(),
    protocol: {
      name: "lid-ds",
      strict: true,
      description: "Synthetic recordings shaped like LID-DS: normal behaviour, then an attack at a known time.",
      rules: ["Thresholds come from normal calibration recordings only.", "Every model runs with its defaults."],
      seed,
      threshold: { method: "far", far: 0.1, calibration: "8 held-out normal recordings" },
    },
    dataset: {
      paths: ["/data/lid-ds", `/tmp/${HOSTILE}`],
      splits: [
        split(
          "train",
          train.map((calls) => ({ traces: [{ calls }] })),
        ),
        split("calibration", calibration),
        split("test", [...normal, ...attacks]),
      ],
      attackTypes: ATTACK_TYPES.map((type) => ({ type, traces: attacks.filter((a) => a.attackType === type).length })),
      syscalls: 10,
    },
    models,
    kfold: {
      k: folds.length,
      grouping: "attack-session",
      attackGroups: 4,
      rows,
      total: kRow(0, allTruth, allPredicted),
      random: {
        grouping: "trace",
        attackGroups: 4,
        rows,
        total: kRow(0, allTruth, allTruth),
        leaky: true,
        auc: 0.987654,
        model: "ksbigram (random folds, leaky)",
      },
    },
    totalSeconds: 2.5,
    loadSeconds: 0.4,
  };
}

interface Spec {
  layer?: { data?: { values?: Record<string, unknown>[] } }[];
  data?: { values?: Record<string, unknown>[] };
}

function chartSpecs(html: string): Record<string, Spec> {
  const m = /<script type="application\/json" id="chart-specs">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error("no chart-specs element");
  return JSON.parse(m[1]!) as Record<string, Spec>;
}

const CHART_IDS = ["chart-attack", "chart-dist", "chart-roc", "chart-roc-low", "chart-timing"];

describe("renderHtmlReport", () => {
  const r = evalFixture(5);
  const html = renderHtmlReport(r);

  it("uses a fixture with NaN figures, call-level figures and a k-fold table", () => {
    expect(JSON.stringify(toJsonSafe(r))).toContain("null");
    expect(r.models.length).toBe(4);
    expect(r.models.filter((m) => m.callLevel !== undefined).length).toBeGreaterThanOrEqual(3);
    expect(r.kfold!.rows.some((row) => Number.isNaN(row.precision))).toBe(true);
  });

  it("names every model, attack type and split, and shows the protocol's rules", () => {
    for (const m of r.models) expect(html).toContain(escapeHtml(m.name));
    for (const a of r.dataset.attackTypes) expect(html).toContain(escapeHtml(a.type));
    for (const s of r.dataset.splits) expect(html).toContain(`<td>${s.name}</td>`);
    for (const rule of r.protocol.rules) expect(html).toContain(escapeHtml(rule));
    const callLevel = /Call level \(LID-DS\)[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    expect(callLevel.match(/<tr>/g)!.length).toBe(r.models.filter((m) => m.callLevel !== undefined).length);
    expect(html).toContain(`Supervised ${r.kfold!.k}-fold`);
  });

  it("escapes hostile text from the result", () => {
    expect(html).toContain(`<code>/tmp/${escapeHtml(HOSTILE)}</code>`);
    expect(html).not.toContain("<script>alert(");
    // Every <script> the page opens is one it closes: nothing from the data ends or starts a script element.
    const opened = html.match(/<script\b/gi)!.length;
    expect(html.match(/<\/script>/gi)!.length).toBe(opened);
    expect(opened).toBe(5); // vega, vega-lite, vega-embed, the specs, the embedding code
  });

  it("highlights the best AUC", () => {
    const best = Math.max(...r.models.map((m) => m.auc).filter(Number.isFinite));
    const highlighted = [...html.matchAll(/<td class="n best-auc">([^<]*)<\/td>/g)].map((x) => x[1]);
    expect(highlighted.length).toBe(r.models.filter((m) => m.auc === best).length);
    expect(highlighted[0]).toBe(best.toFixed(4));
  });

  it("loads nothing from the network", () => {
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\s(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//i);
  });

  it("embeds chart data that survives the round trip, NaN as null", () => {
    const specs = chartSpecs(html);
    expect(Object.keys(specs).sort()).toEqual(CHART_IDS);
    const lines = specs["chart-roc"]!.layer![1]!.data!.values!;
    for (const m of r.models) {
      const mine = lines.filter((v) => v.model === m.name);
      const want = toJsonSafe(m.roc);
      expect(mine.map((v) => [v.fpr, v.tpr, v.threshold])).toEqual(want.map((p) => [p.fpr, p.tpr, p.threshold]));
    }
    // -Infinity (the threshold that flags everything) arrives as null.
    expect(lines.some((v) => v.threshold === null)).toBe(true);
    const bars = specs["chart-attack"]!.data!.values!;
    expect(bars.find((v) => v.type === "no_test_traces")?.rate).toBeNull();
    expect(bars.filter((v) => v.model === r.models[1]!.name).length).toBe(r.models[1]!.per_attack.length);
  });

  it("writes JSON and inlined code that cannot end their script element", () => {
    expect(
      JSON.parse(scriptJson({ a: Number.NaN, b: Number.POSITIVE_INFINITY, c: `</script>${HOSTILE}<!--` })),
    ).toEqual({
      a: null,
      b: null,
      c: `</script>${HOSTILE}<!--`,
    });
    expect(scriptJson(`</script><!--`)).not.toMatch(/<\/|<!/);
    const code = inlineScript('var s = "</script>"; var r = /<\\/SCRIPT>/;');
    expect(code.slice("<script>".length, -"</script>".length)).not.toMatch(/<\/script/i);
    expect(() => inlineScript('var s = "<!--<script>";')).toThrow(/cannot be inlined/);
  });

  it("says in the title and a warning box when the protocol is not the strict one", () => {
    expect(html).toContain("<h1>homeostat eval: lid-ds</h1>");
    expect(html).not.toContain('class="warn"');
    const variant: EvalResult = {
      ...r,
      protocol: {
        ...r.protocol,
        name: "adfa-ld",
        strict: false,
        variant: "lidds-500+dedupe",
        trainingFromValidation: { count: 500, order: "file-name", first: "UVD-0001.txt", last: "UVD-0500.txt" },
        dedupe: { removed: 7, normal: 6, attack: 1, units: [] },
      },
    };
    const page = renderHtmlReport(variant);
    expect(page).toContain("<h1>homeostat eval: adfa-ld (lidds-500+dedupe) (not strict)</h1>");
    expect(page).toContain("<title>homeostat eval: adfa-ld (lidds-500+dedupe) (not strict)</title>");
    const warn = /<div class="warn">([\s\S]*?)<\/div>/.exec(page)![1]!;
    expect(warn).toContain("NOT the strict protocol");
    expect(warn).toContain("500 validation traces (UVD-0001.txt to UVD-0500.txt by file name)");
    expect(warn).toContain("7 test traces identical to a training trace were removed");
  });

  it("shows the grouped k-fold figure first and the random folds beside it, labelled leaky", () => {
    expect(html).toContain("4 folds grouped by attack session (4 sessions");
    const comparison = /Grouped folds \(the figure to quote\)[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    const rows = comparison.split("</tr>").filter((x) => x.includes("<td"));
    expect(rows[0]).toContain("grouped by attack session");
    expect(rows[1]).toContain("random per trace (LEAKY)");
    expect(rows[1]).toContain("0.9877");
    expect(html).toContain("LEAKY: traces of one attack session sit in both the training and the test folds");
  });

  it("renders a result with no models, k-fold only", () => {
    const page = renderHtmlReport({ ...r, models: [] });
    expect(page).toContain("No models were evaluated.");
    expect(Object.keys(chartSpecs(page))).toEqual([]);
    expect(page).toContain(`Supervised ${r.kfold!.k}-fold`);
  });
});

describe.skipIf(!haveChromium())("the report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("renders every chart as SVG with the expected marks, offline", { timeout: 120_000 }, async () => {
    const r = evalFixture(11);
    const file = join(dir, "report.html");
    writeFileSync(file, renderHtmlReport(r));
    const { page, requests, problems, close } = await openReport(file);
    try {
      await chartsSettled(page, CHART_IDS);
      const state = await page.evaluate(
        (ids) =>
          Object.fromEntries(
            ids.map((id) => {
              const el = document.getElementById(id)!;
              const count = (sel: string): number => el.querySelectorAll(sel).length;
              return [
                id,
                {
                  error: el.dataset.error ?? null,
                  svg: count("svg"),
                  lines: count("g.mark-line.role-mark path"),
                  points: count("g.mark-symbol.role-mark path"),
                  rectGroups: count("g.mark-rect.role-mark"),
                  rects: count("g.mark-rect.role-mark path"),
                },
              ];
            }),
          ),
        CHART_IDS,
      );
      for (const id of CHART_IDS) {
        expect(state[id]!.error, id).toBeNull();
        expect(state[id]!.svg, id).toBeGreaterThan(0);
      }
      const n = r.models.length;
      const calibrated = r.models.filter(
        (m) => Number.isFinite(m.rates.falseAlarmRate) && Number.isFinite(m.rates.recall),
      );
      for (const id of ["chart-roc", "chart-roc-low"]) {
        expect(state[id]!.lines, id).toBe(n + 1); // one curve per model and the chance diagonal
        expect(state[id]!.points, id).toBe(calibrated.length);
      }
      // One histogram panel per model, one bar per class and bin.
      expect(state["chart-dist"]!.rectGroups).toBe(n);
      expect(state["chart-dist"]!.rects).toBe(r.models.reduce((s, m) => s + 2 * m.distribution.normal.length, 0));
      // One bar per (model, attack type) with a defined rate; undefined rates are left out, not drawn as 0.
      const rates = r.models.flatMap((m) => m.per_attack.map((a) => a.detectionRate));
      expect(rates.some((x) => !Number.isFinite(x))).toBe(true);
      expect(state["chart-attack"]!.rects).toBe(rates.filter(Number.isFinite).length);
      expect(state["chart-timing"]!.rects).toBe(2 * n);
      // The hostile model name is drawn as text in the legend, not run.
      const legend = await page.$$eval("#chart-roc g.role-legend text", (els) => els.map((e) => e.textContent));
      expect(legend).toContain(r.models[1]!.name);
      expect(problems).toEqual([]);
      expect(requests.filter((u) => !/^(file|data):/.test(u))).toEqual([]);
      expect(requests.filter((u) => u.startsWith("file:")).length).toBe(1); // the page itself, nothing else
    } finally {
      await close();
    }
  });
});
