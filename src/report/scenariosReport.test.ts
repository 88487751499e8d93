/// <reference lib="dom" />
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EVAL_SCHEMA, type EvalResult } from "../eval/evalResult.js";
import { type EvalUnit, runExperiment } from "../eval/experiment.js";
import { SCENARIOS_EVAL_SCHEMA, type ScenariosEvalResult } from "../eval/scenariosResult.js";
import { summarizeScenarios } from "../eval/scenariosSummary.js";
import { SeededRandom } from "../models/random.js";
import { shiftHeadings } from "./htmlReport.js";
import { renderScenariosReport } from "./scenariosReport.js";
import { chartsSettled, haveChromium, openReport } from "./testing/headlessPage.js";

const HOSTILE = "<script>alert(1)</script>";

/** One program's run on synthetic timed recordings: normal cycles, attacks with foreign calls after their time. */
function programResult(seed: number, name: string): EvalResult {
  const rng = new SeededRandom(seed);
  const recording = (unit: string, attack: boolean): EvalUnit => {
    const n = 80;
    const calls = new Uint16Array(n);
    const times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = i * 0.01;
      calls[i] = attack && i >= 40 && rng.next() < 0.1 ? 6 + rng.nextInt(2) : (i + rng.nextInt(2)) % 5;
    }
    return { name: unit, traces: [{ calls, times }], attack, ...(attack ? { attackType: name, attackTime: 0.4 } : {}) };
  };
  const train = Array.from({ length: 10 }, (_, i) => recording(`t${i}`, false).traces[0]!.calls);
  const calibration = Array.from({ length: 4 }, (_, i) => recording(`v${i}`, false));
  const test = [...Array.from({ length: 6 }, (_, i) => recording(`n${i}`, false)), recording("a0", true)];
  const models = runExperiment(
    { train, calibration, test },
    { models: ["stide:k=3", "ngram:n=3"], threshold: { method: "max" }, seed, ensemble: "rank" },
  );
  return {
    schema: EVAL_SCHEMA,
    homeostat: "0.0.0-test",
    startedAt: "2024-01-02T03:04:05.000Z",
    protocol: {
      name: "lid-ds",
      strict: true,
      description: "LID-DS protocol on synthetic recordings.",
      rules: ["Thresholds come from the validation recordings."],
      seed,
      threshold: { method: "max", calibration: "validation recordings" },
    },
    dataset: {
      paths: [`/data/${name}`],
      splits: [{ name: "training", traces: 10, calls: 800 }],
      attackTypes: [{ type: name, traces: 1 }],
      syscalls: 7,
    },
    models,
    totalSeconds: 0.5,
    loadSeconds: 0.1,
  };
}

function fixture(): ScenariosEvalResult {
  const programs = [
    { name: "nginx", image: "nginx:1.25", path: "/data/nginx", result: programResult(1, "nginx") },
    { name: `evil${HOSTILE}`, path: "/data/evil", result: programResult(2, `evil${HOSTILE}`) },
  ];
  return {
    schema: SCENARIOS_EVAL_SCHEMA,
    homeostat: "0.0.0-test",
    startedAt: "2024-01-02T03:04:05.000Z",
    protocol: {
      name: "scenarios",
      strict: true,
      description: "Scenarios on synthetic recordings.",
      rules: ["Means are macro-averages."],
      seed: 1,
      threshold: { method: "max", calibration: "each program's validation recordings" },
      models: ["stide:k=3", "ngram:n=3"],
      ensemble: "rank",
    },
    dataset: { path: "/data", manifest: true, seed: 3, skipped: [{ name: "redis", reason: `pull ${HOSTILE}` }] },
    programs,
    summary: summarizeScenarios(programs.map((p) => ({ name: p.name, models: p.result.models }))),
    totalSeconds: 1,
    loadSeconds: 0.2,
  };
}

function chartIds(page: string): string[] {
  return Object.keys(JSON.parse(/<script type="application\/json" id="chart-specs">(.*?)<\/script>/s.exec(page)![1]!));
}

describe("renderScenariosReport", () => {
  const page = renderScenariosReport(fixture());

  it("holds the summary, then one section per program with its own charts", () => {
    expect(page).toContain("<h1>homeostat eval: scenarios (2 programs)</h1>");
    expect(page).toContain("Summary: one model per program, macro-averages over 2 programs");
    expect(page).toContain('<section class="program" id="program-1"><header><h2>program nginx (nginx:1.25)</h2>');
    const ids = chartIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith("p1-"))).toEqual(
      ids.filter((id) => id.startsWith("p2-")).map((id) => id.replace("p2-", "p1-")),
    );
    for (const id of ids) expect(page.split(`id="${id}"`).length - 1).toBe(1);
  });

  it("escapes program names and the builder's notes", () => {
    expect(page).not.toContain(HOSTILE);
    expect(page).toContain(`evil&lt;script&gt;`);
  });

  it("moves headings down without touching other tags", () => {
    expect(shiftHeadings("<header><h1>a</h1><h2 class=x>b</h2><h6>c</h6><hr></header>", 1)).toBe(
      "<header><h2>a</h2><h3 class=x>b</h3><h6>c</h6><hr></header>",
    );
  });
});

describe.skipIf(!haveChromium())("the scenarios report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-scenarios-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("renders the summary chart and every program's charts, offline", { timeout: 120_000 }, async () => {
    const file = join(dir, "report.html");
    const page = renderScenariosReport(fixture());
    writeFileSync(file, page);
    const ids = chartIds(page);
    const { page: browser, requests, problems, close } = await openReport(file);
    try {
      await chartsSettled(browser, ids);
      const state = await browser.evaluate(
        (list) =>
          list.map((id) => [
            id,
            document.getElementById(id)!.dataset.error ?? null,
            document.querySelectorAll(`#${CSS.escape(id)} svg`).length,
          ]),
        ids,
      );
      for (const [id, error, svgs] of state) {
        expect(error, String(id)).toBeNull();
        expect(svgs, String(id)).toBeGreaterThan(0);
      }
      expect(problems).toEqual([]);
      expect(requests.filter((u) => !/^(file|data):/.test(u))).toEqual([]);
    } finally {
      await close();
    }
  });
});
