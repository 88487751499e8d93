/// <reference lib="dom" />
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DatasetScan } from "../eval/datasetScan.js";
import type { DatasetProfile } from "../eval/datasetProfile.js";
import type { SourceInfo } from "../ingest/event.js";
import { SeededRandom } from "../models/random.js";
import { CATEGORIES } from "../syscalls/categories.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { renderDatasetReport } from "./datasetReport.js";
import { chartsSettled, haveChromium, openReport } from "./testing/headlessPage.js";
import { escapeHtml } from "./vegaPage.js";

const HOSTILE = "<script>alert(1)</script>";
const NORMAL_CALLS = ["open", "read", "mmap", "close", "fstat", "write"];
const ATTACK_CALLS = ["socket", "connect", "execve", "read", "clone", "write"];

/** A small data set through the real scan: normal and attack traces of two types, a duplicate, a conflict. */
function profileFixture(seed: number): DatasetProfile {
  const rng = new SeededRandom(seed);
  const vocab = new Vocabulary();
  const scan = new DatasetScan(vocab, { window: 6, profile: true });
  const add = (source: SourceInfo, names: string[]): void => {
    scan.beginSource(source);
    for (const n of names) scan.call(0, vocab.intern(n), Number.NaN, Number.NaN, undefined);
    scan.endSource();
  };
  const draw = (pool: string[], n: number): string[] =>
    Array.from({ length: n }, () => pool[rng.nextInt(pool.length)]!);
  for (let i = 0; i < 30; i++) {
    add({ path: `/d/train/n${i}`, format: "adfa", split: "training", label: "normal" }, draw(NORMAL_CALLS, 20 + i));
  }
  const shared = draw(NORMAL_CALLS, 12);
  add({ path: "/d/val/copy", format: "adfa", split: "validation", label: "normal" }, shared);
  for (const type of ["Web_Shell", `x${HOSTILE}`]) {
    for (let i = 0; i < 8; i++) {
      add({ path: `/d/att/${type}/${i}`, format: "adfa", split: "attack", label: "attack", attackType: type }, [
        ...draw(NORMAL_CALLS, 5),
        ...draw(ATTACK_CALLS, 15 + i),
      ]);
    }
  }
  add({ path: "/d/att/conflict", format: "adfa", split: "attack", label: "attack", attackType: "Web_Shell" }, shared);
  return scan.profile(["/d", `/tmp/${HOSTILE}`], 8);
}

function chartSpecs(html: string): Record<string, { data?: { values?: Record<string, unknown>[] } }> {
  const m = /<script type="application\/json" id="chart-specs">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error("no chart-specs element");
  return JSON.parse(m[1]!) as Record<string, { data?: { values?: Record<string, unknown>[] } }>;
}

describe("renderDatasetReport", () => {
  const p = profileFixture(3);
  const html = renderDatasetReport(p);

  it("has a heatmap per label, per attack type and the difference, each 31 x 31 with category names", () => {
    expect(p.heatmaps.map((h) => [h.kind, h.name])).toEqual([
      ["label", "normal"],
      ["label", "attack"],
      ["difference", "attack − normal"],
      ["attackType", "Web_Shell"],
      ["attackType", `x${HOSTILE}`],
    ]);
    const specs = chartSpecs(html);
    for (let i = 0; i < p.heatmaps.length; i++) {
      const values = specs[`chart-heatmap-${i}`]!.data!.values!;
      expect(values.length).toBe(31 * 31);
      expect(new Set(values.map((v) => v.prev))).toEqual(new Set(CATEGORIES.map((c) => c.name)));
    }
    expect(Object.keys(specs)).toEqual(
      expect.arrayContaining(["chart-separation", "chart-lengths", "chart-distinct", "chart-syscalls"]),
    );
  });

  it("ranks the separating bigrams by name and shows the cleaning facts", () => {
    const bars = chartSpecs(html)["chart-separation"]!.data!.values!;
    expect(bars.length).toBeGreaterThan(0);
    expect(String(bars[0]!.bigram)).toMatch(/^[a-z_]+ → [a-z_]+$/);
    expect(html).toContain("Duplicates within each split and group");
    expect(html).toContain("training ∩ validation");
    expect(html).toContain("<code>att/conflict</code>"); // relative to the input /d
    expect(p.cleaning.conflicts.sequences).toBe(1);
  });

  it("escapes hostile text and loads nothing from the network", () => {
    expect(html).toContain(escapeHtml(`x${HOSTILE}`));
    expect(html).not.toContain("<script>alert(");
    expect(html.match(/<script\b/gi)!.length).toBe(html.match(/<\/script>/gi)!.length);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\s(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
  });

  it("renders a data set without attack traces", () => {
    const vocab = new Vocabulary();
    const scan = new DatasetScan(vocab, { window: 6, profile: true });
    scan.beginSource({ path: "t", format: "strace" });
    for (const n of ["open", "read", "close"]) scan.call(1, vocab.intern(n), Number.NaN, Number.NaN, undefined);
    scan.endSource();
    const page = renderDatasetReport(scan.profile(["t"], 5));
    expect(page).toContain("Needs normal and attack traces.");
    expect(Object.keys(chartSpecs(page))).toContain("chart-heatmap-0");
  });
});

describe.skipIf(!haveChromium())("the inspect report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-inspect-report-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("renders every chart as SVG, 31 x 31 cells per heatmap, offline", { timeout: 120_000 }, async () => {
    const p = profileFixture(7);
    const file = join(dir, "inspect.html");
    writeFileSync(file, renderDatasetReport(p));
    const { page, requests, problems, close } = await openReport(file);
    try {
      const ids = await page.$$eval("div.chart", (els) => els.map((e) => e.id));
      expect(ids.length).toBe(p.heatmaps.length + 4);
      await chartsSettled(page, ids);
      const state = await page.evaluate(
        (list) =>
          list.map((id) => {
            const el = document.getElementById(id)!;
            return {
              id,
              error: el.dataset.error ?? null,
              svg: el.querySelectorAll("svg").length,
              rects: el.querySelectorAll("g.mark-rect.role-mark path").length,
              text: Array.from(el.querySelectorAll("g.role-axis-label text"), (t) => t.textContent),
            };
          }),
        ids,
      );
      for (const s of state) {
        expect(s.error, s.id).toBeNull();
        expect(s.svg, s.id).toBe(1);
      }
      const categories: string[] = CATEGORIES.map((c) => c.name);
      for (const s of state.filter((x) => x.id.startsWith("chart-heatmap-"))) {
        expect(s.rects, s.id).toBe(31 * 31);
        // Both axes name every category.
        expect(s.text.filter((t) => categories.includes(t ?? "")).length, s.id).toBe(2 * 31);
      }
      const bars = state.find((s) => s.id === "chart-separation")!;
      expect(bars.rects).toBe(Math.min(30, p.separation.length));
      expect(bars.text).toContain(`${categories[p.separation[0]!.prev]} → ${categories[p.separation[0]!.next]}`);
      expect(problems).toEqual([]);
      expect(requests.filter((u) => !/^(file|data):/.test(u))).toEqual([]);
      expect(requests.filter((u) => u.startsWith("file:")).length).toBe(1);
    } finally {
      await close();
    }
  });
});
