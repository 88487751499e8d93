// `homeostat eval --dataset scenarios` end to end through bin/homeostat (run `npm run build` first), on a small
// scenarios tree recorded for real under strace (src/ingest/testing/scenariosTree.ts): the terminal tables, the
// --json document, the --report page, one program through `--dataset lid-ds`, and a program missing a split.

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvalResult } from "../../eval/evalResult.js";
import type { ScenariosEvalResult } from "../../eval/scenariosResult.js";
import { buildScenariosTree, scenariosTreeUnavailable } from "../../ingest/testing/scenariosTree.js";
import { BIN } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const unavailable = scenariosTreeUnavailable();
if (unavailable !== undefined) console.log(`skipping the eval --dataset scenarios tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("homeostat eval --dataset scenarios (a recorded tree)", () => {
  let root: string;
  let data: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "homeostat-eval-scenarios-"));
    data = join(root, "scenarios");
    // python's attack is listed as data-only (a label only), to see the summary set such attacks apart.
    buildScenariosTree(data, { seed: 4, dataOnlyAttacks: { python: ["spawn-id"] } });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const MODELS = ["-m", "stide:k=6,ngram:n=3"];

  it("prints the summary per model and the programs x models AUC table", () => {
    const r = run(["eval", "--dataset", "scenarios", "--data", data, ...MODELS]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("scenarios: one model per program; means are macro-averages over 2 programs");
    expect(r.stdout).toMatch(/model\s+score\s+mean AUC\s+w\/o data-only\s+min AUC \(program\)\s+FAR@90%/);
    expect(r.stdout).toMatch(
      /^\s+shell \[testing\/bash-coreutils\]: training \d+ \/ validation \d+ \/ test \d+ traces/m,
    );
    const auc = r.stdout.slice(r.stdout.indexOf("AUC per program"));
    expect(auc).toMatch(/program\s+stide:k=6\s+ngram:n=3\s+ensemble\(minmax\)/);
    for (const row of ["shell", "python", "mean", "min"])
      expect(auc).toMatch(new RegExp(`^${row}\\s+[\\d.]+\\s+`, "m"));
    const attacks = r.stdout.slice(r.stdout.indexOf("AUC per attack"));
    expect(attacks).toMatch(/^shell\s+spawn-id\s+[\d.]+\s+/m);
    expect(attacks).toMatch(/^python\s+spawn-id \(data-only\)\s+[\d.]+\s+/m);
  });

  it("writes the JSON document (each program's own result inside) and the report", () => {
    const report = join(root, "report.html");
    const r = run(["eval", "--dataset", "scenarios", "--data", data, ...MODELS, "--json", "-", "--report", report]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as ScenariosEvalResult;
    expect(out.schema).toBe("homeostat-eval-scenarios/1");
    expect(out.protocol).toMatchObject({
      name: "scenarios",
      strict: true,
      models: ["stide:k=6", "ngram:n=3"],
      ensemble: "minmax",
      threshold: { method: "max" },
    });
    expect(out.dataset).toMatchObject({ path: data, manifest: true, seed: 4, skipped: [] });
    expect(out.programs.map((p) => [p.name, p.image, p.path])).toEqual([
      ["shell", "testing/bash-coreutils", join(data, "shell")],
      ["python", "testing/python3", join(data, "python")],
    ]);
    for (const p of out.programs) {
      expect(p.result.schema).toBe("homeostat-eval/1");
      expect(p.result.protocol.name).toBe("lid-ds");
      expect(p.result.models.map((m) => m.name)).toEqual(["stide:k=6", "ngram:n=3", "ensemble(minmax)"]);
      expect(p.result.models[0]!.callLevel!.attackRecordings).toBe(2);
    }
    expect(out.summary.programs).toBe(2);
    expect(out.summary.models.map((m) => m.name)).toEqual(["stide:k=6", "ngram:n=3", "ensemble(minmax)"]);
    const mean = (out.programs[0]!.result.models[1]!.auc + out.programs[1]!.result.models[1]!.auc) / 2;
    expect(out.summary.models[1]!.auc.mean).toBeCloseTo(mean, 12);
    expect(["shell", "python"]).toContain(out.summary.models[1]!.auc.minProgram);
    // Without data-only attacks: python has none left, so the mean is shell's AUC alone.
    expect(out.programs.map((p) => p.dataOnlyAttacks)).toEqual([undefined, ["spawn-id"]]);
    expect(out.programs[0]!.result.models[1]!.per_attack.map((a) => a.type)).toEqual(["spawn-id"]);
    expect(out.summary.models[1]!.aucWithoutDataOnly).toMatchObject({
      programs: 1,
      mean: out.programs[0]!.result.models[1]!.auc,
    });

    const page = readFileSync(report, "utf8");
    expect(page).toContain("Summary: one model per program, macro-averages over 2 programs");
    expect(page).toContain('<section class="program" id="program-1">');
    expect(page).toContain("<h2>program shell (testing/bash-coreutils)</h2>");
    expect(page).toContain("<h2>AUC per attack</h2>");
    expect(page).toContain("spawn-id (data-only)");
    const specs = JSON.parse(/<script type="application\/json" id="chart-specs">(.*?)<\/script>/s.exec(page)![1]!);
    const ids = Object.keys(specs);
    expect(ids).toContain("chart-scenarios-auc");
    expect(ids).toContain("p2-chart-roc");
    for (const id of ids) expect(page).toContain(`id="${id}"`);
  });

  it("evaluates one program's folder with --dataset lid-ds", () => {
    const r = run(["eval", "--dataset", "lid-ds", "--data", join(data, "python"), ...MODELS, "--json", "-"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvalResult;
    expect(out.dataset.attackTypes).toEqual([{ type: "python", traces: expect.any(Number) as number }]);
    expect(out.models[0]!.confusion.tp + out.models[0]!.confusion.fn).toBe(2);
  });

  it("refuses a program folder missing its validation split, naming the folder", () => {
    const broken = join(root, "broken");
    cpSync(join(data, "shell"), join(broken, "shell"), { recursive: true });
    cpSync(join(data, "python"), join(broken, "python"), { recursive: true });
    rmSync(join(broken, "python", "validation"), { recursive: true });
    const r = run(["eval", "--dataset", "scenarios", "--data", broken, ...MODELS]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(join(broken, "python"));
    expect(r.stderr).toContain('program "python" has no validation/ folder');
    expect(r.stderr).toContain("E_FORMAT");
  });

  it("refuses --kfold with scenarios", () => {
    const r = run(["eval", "--dataset", "scenarios", "--data", data, "--kfold", "3"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not with --dataset scenarios");
  });
});
