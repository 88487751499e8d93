/// <reference lib="dom" />
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runExperiment, type EvalUnit } from "../eval/experiment.js";
import { EVAL_SCHEMA, type EvalResult } from "../eval/evalResult.js";
import { SeededRandom } from "../models/random.js";
import { renderHtmlReport } from "./htmlReport.js";
import { escapeHtml, scriptJson } from "./vegaPage.js";

// A real (small) experiment: normal traces cycle through a few call patterns, attacks insert foreign calls.
function result(): EvalResult {
  const rng = new SeededRandom(5);
  const trace = (attack: boolean): Uint16Array => {
    const n = 40 + rng.nextInt(60);
    const t = new Uint16Array(n);
    for (let i = 0; i < n; i++) t[i] = attack && rng.next() < 0.15 ? 5 + rng.nextInt(3) : (i + rng.nextInt(2)) % 4;
    return t;
  };
  const unit = (i: number, attack: boolean, type?: string): EvalUnit => ({
    name: `${attack ? "attack" : "normal"}-${i}`,
    traces: [{ calls: trace(attack) }],
    attack,
    ...(type !== undefined ? { attackType: type } : {}),
  });
  const normal = Array.from({ length: 30 }, (_, i) => unit(i, false));
  const attacks = Array.from({ length: 12 }, (_, i) => unit(i, true, i % 2 ? "<script>alert(1)</script>" : "Hydra"));
  const models = runExperiment(
    { train: Array.from({ length: 20 }, () => trace(false)), calibration: normal.slice(0, 6), test: [...normal, ...attacks] },
    { models: ["stide:k=3", "ngram:n=3", "lookahead"], threshold: { method: "far", far: 0.1 }, seed: 1, ensemble: "rank" },
  );
  return {
    schema: EVAL_SCHEMA,
    homeostat: "test",
    startedAt: new Date(0).toISOString(),
    protocol: { name: "generic", description: "a test", rules: ["rule one"], seed: 1, threshold: { method: "far", far: 0.1, calibration: "held out" } },
    dataset: { paths: ["/data/<b>x</b>"], splits: [{ name: "train", traces: 20, calls: 1000 }], attackTypes: [{ type: "Hydra", traces: 6 }], syscalls: 8 },
    models,
    totalSeconds: 1,
    loadSeconds: 0.1,
  };
}

describe("renderHtmlReport", () => {
  const r = result();
  const html = renderHtmlReport(r);

  it("names every model and escapes text from the data", () => {
    for (const m of r.models) expect(html).toContain(escapeHtml(m.name));
    expect(html).not.toContain("<b>x</b>");
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
    expect(html).not.toContain("<script>alert(1)</script>");
  });

  it("loads nothing from the network", () => {
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);
  });

  it("embeds chart data that survives the round trip, NaN as null", () => {
    const m = /<script type="application\/json" id="chart-specs">([\s\S]*?)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    const specs = JSON.parse(m![1]!) as Record<string, unknown>;
    expect(Object.keys(specs).sort()).toEqual(["chart-attack", "chart-dist", "chart-roc", "chart-timing"]);
    expect(JSON.parse(scriptJson({ a: Number.NaN, b: "</script>" }))).toEqual({ a: null, b: "</script>" });
    expect(scriptJson("</script>")).not.toContain("</");
  });
});

const chromiumPath = process.env.HOMEOSTAT_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) console.log(`skipping the browser test: no Chromium at ${chromiumPath} (apt-get install chromium)`);

describe.skipIf(!haveChromium)("the report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("renders every chart as SVG, offline", { timeout: 90_000 }, async () => {
    const { chromium } = await import("playwright-core");
    const r = result();
    const file = join(dir, "report.html");
    writeFileSync(file, renderHtmlReport(r));
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
    });
    try {
      const page = await browser.newPage();
      const remote: string[] = [];
      page.on("request", (req) => {
        if (!/^(file|data|blob|about):/.test(req.url())) remote.push(req.url());
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`file://${file}`);
      const ids = ["chart-roc", "chart-dist", "chart-attack", "chart-timing"];
      await page.waitForFunction(
        (list) => list.every((id) => {
          const el = document.getElementById(id);
          return el !== null && (el.dataset.rendered === "true" || el.dataset.error !== undefined);
        }),
        ids,
        { timeout: 60_000 },
      );
      for (const id of ids) {
        const state = await page.$eval(`#${id}`, (el) => ({
          error: (el as HTMLElement).dataset.error ?? null,
          svg: el.querySelectorAll("svg").length,
          marks: el.querySelectorAll("g.mark-line path, g.mark-rect path").length,
        }));
        expect(state.error, id).toBeNull();
        expect(state.svg, id).toBeGreaterThan(0);
        expect(state.marks, id).toBeGreaterThan(0);
      }
      // One ROC line per model (the diagonal is a line too).
      const rocLines = await page.$$eval("#chart-roc g.mark-line path", (els) => els.length);
      expect(rocLines).toBe(r.models.length + 1);
      expect(errors).toEqual([]);
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
