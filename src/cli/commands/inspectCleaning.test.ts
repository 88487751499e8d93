// `homeostat inspect` cleaning facts and `eval --dedupe`, end to end through bin/homeostat (run `npm run build`
// first): on a generated ADFA-LD-shaped tree whose duplicates, cross-split copies, label conflicts and degenerate
// traces are planted, written with varying whitespace and line endings; and on ADFA-LD itself when it is present.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CleaningFacts } from "../../eval/datasetCleaning.js";
import type { EvalResult } from "../../eval/evalResult.js";
import { ADFA_DIR, BIN, skipWithout } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A normal trace, unique to i: a call of its own, then a loop of file calls varied by i. */
function normalCalls(i: number): number[] {
  return [
    200 + i,
    ...Array.from({ length: 40 + (i % 5) }, (_, j) => [5, 3, 4, 6, 90, 91][(j * (1 + (i % 3)) + i) % 6]!),
  ];
}

/** The same calls in three spellings: ADFA-LD's, double spaces with CRLF line breaks, no trailing space. */
function spell(calls: number[], style: number): string {
  if (style === 1) return `${calls.slice(0, 5).join("  ")}\r\n${calls.slice(5).join("  ")}\r\n`;
  if (style === 2) return `${calls.join(" ")}\n\n`;
  return `${calls.join(" ")} \n`;
}

describe("homeostat inspect: cleaning facts of a generated ADFA-LD tree", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-clean-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, calls: number[], style = 0): void => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), spell(calls, style));
  };
  const attack = (i: number): number[] => [...normalCalls(i).slice(0, 10), 11, 102, 11, 162, ...normalCalls(i)];
  for (let i = 1; i <= 12; i++) put(`Training_Data_Master/UTD-${i}.txt`, normalCalls(i));
  put("Training_Data_Master/UTD-13.txt", normalCalls(1), 1); // duplicate of UTD-1
  put("Training_Data_Master/UTD-14.txt", normalCalls(1), 2); // and again
  for (let i = 20; i < 40; i++) put(`Validation_Data_Master/UVD-${i}.txt`, normalCalls(i));
  put("Validation_Data_Master/UVD-50.txt", normalCalls(2), 1); // copy of a training trace
  put("Validation_Data_Master/UVD-51.txt", normalCalls(3)); // copy of a training trace
  put("Validation_Data_Master/UVD-52.txt", [7, 7, 7, 7, 7, 7, 7, 7]); // one distinct call
  put("Validation_Data_Master/UVD-53.txt", [5, 3, 4]); // shorter than a window
  for (let i = 0; i < 6; i++) put(`Attack_Data_Master/Web_Shell_1/UAD-W${i}.txt`, attack(i));
  for (let i = 0; i < 6; i++) put(`Attack_Data_Master/Adduser_1/UAD-A${i}.txt`, attack(100 + i));
  put("Attack_Data_Master/Adduser_2/UAD-A9.txt", attack(100), 2); // duplicate within Adduser
  put("Attack_Data_Master/Web_Shell_2/UAD-C1.txt", normalCalls(25)); // identical to a validation trace
  put("Attack_Data_Master/Web_Shell_2/UAD-C2.txt", normalCalls(4), 1); // identical to a training trace

  it("finds every planted fact, whatever the whitespace", () => {
    const r = run(["inspect", "--json", dir]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const c = (JSON.parse(r.stdout) as { cleaning: CleaningFacts }).cleaning;
    const rel = (names: string[]) => names.map((n) => n.slice(dir.length + 1));
    const group = (kind: string, name: string) => c.groups.find((g) => g.kind === kind && g.name === name)!;
    expect(group("split", "training")).toMatchObject({ traces: 14, distinct: 12, duplicates: 2 });
    expect(rel(group("split", "training").sets[0]!)).toEqual([
      "Training_Data_Master/UTD-1.txt",
      "Training_Data_Master/UTD-13.txt",
      "Training_Data_Master/UTD-14.txt",
    ]);
    expect(group("split", "attack")).toMatchObject({ traces: 15, duplicates: 1 });
    expect(group("attackType", "Adduser")).toMatchObject({ traces: 7, duplicates: 1 });
    expect(group("attackType", "Web_Shell")).toMatchObject({ traces: 8, duplicates: 0 });
    const pair = (a: string, b: string) => c.splits.find((s) => s.first === a && s.second === b)!;
    expect(pair("training", "validation")).toMatchObject({ sequences: 2, secondInFirst: 2, firstInSecond: 2 });
    expect(rel(pair("training", "validation").traces).sort()).toEqual([
      "Validation_Data_Master/UVD-50.txt",
      "Validation_Data_Master/UVD-51.txt",
    ]);
    expect(rel(pair("training", "attack").traces)).toEqual(["Attack_Data_Master/Web_Shell_2/UAD-C2.txt"]);
    expect(rel(pair("validation", "attack").traces)).toEqual(["Attack_Data_Master/Web_Shell_2/UAD-C1.txt"]);
    expect(c.conflicts.sequences).toBe(2);
    expect(c.conflicts.sets.map((s) => rel(s.traces).sort())).toEqual(
      expect.arrayContaining([
        ["Attack_Data_Master/Web_Shell_2/UAD-C1.txt", "Validation_Data_Master/UVD-25.txt"],
        ["Attack_Data_Master/Web_Shell_2/UAD-C2.txt", "Training_Data_Master/UTD-4.txt"],
      ]),
    );
    expect(rel(c.degenerate.oneDistinctCall.traces)).toEqual(["Validation_Data_Master/UVD-52.txt"]);
    expect(rel(c.degenerate.shorterThanWindow.traces)).toEqual(["Validation_Data_Master/UVD-53.txt"]);
    expect(c.degenerate.empty.count).toBe(0);
    expect(c.hash).toMatchObject({ collisions: 0, unconfirmed: 0 });
  });

  it("prints them, names relative to the input; --window moves the short-trace bound", () => {
    const r = run(["inspect", "--window", "9", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/training\s+split\s+14\s+12\s+2\s+3\s+Training_Data_Master\/UTD-1\.txt/);
    expect(r.stdout).toMatch(/training ∩ validation: 2 shared sequences; 2 validation traces identical/);
    expect(r.stdout).toMatch(/label conflicts: 2 sequences carried by 4 traces/);
    expect(r.stdout).toMatch(/shorter than a window \(9 calls\): 2 \(/);
    expect(r.stdout).not.toContain(dir);
  });

  it("--report writes a self-contained page", () => {
    const file = join(dir, "..", `${join(dir).split("/").pop()}-report.html`);
    try {
      const r = run(["inspect", "--report", file, dir]);
      expect(r.code).toBe(0);
      const html = readFileSync(file, "utf8");
      expect(html).toContain("Category bigrams");
      expect(html).toContain("attack type Web_Shell");
    } finally {
      if (existsSync(file)) rmSync(file);
    }
  });

  it("eval --dedupe removes the test traces identical to training traces, and says how many", () => {
    const args = ["eval", "--dataset", "adfa-ld", "--data", dir, "-m", "stide:k=3", "--ensemble", "none"];
    const strict = JSON.parse(run([...args, "--json", "-"]).stdout) as EvalResult;
    const r = run([...args, "--dedupe", "--json", "-"]);
    expect(r.code).toBe(0);
    const deduped = JSON.parse(r.stdout) as EvalResult;
    expect(strict.protocol.variant).toBeUndefined();
    expect(deduped.protocol.variant).toBe("dedupe");
    expect(deduped.protocol.dedupe).toMatchObject({ removed: 3, normal: 2, attack: 1 });
    expect(deduped.protocol.dedupe!.units.map((u) => u.slice(dir.length + 1)).sort()).toEqual([
      "Attack_Data_Master/Web_Shell_2/UAD-C2.txt",
      "Validation_Data_Master/UVD-50.txt",
      "Validation_Data_Master/UVD-51.txt",
    ]);
    const tested = (e: EvalResult) => e.models[0]!.per_attack.reduce((n, a) => n + a.traces, 0);
    expect(tested(strict) - tested(deduped)).toBe(1);
    const text = run([...args, "--dedupe"]);
    expect(text.stdout).toMatch(
      /dedupe variant: removed 3 test traces identical to a training trace \(2 normal, 1 attack\)/,
    );
    expect(run([...args, "--dedupe", "--kfold", "3"]).code).toBe(2);
  });
});

describe.skipIf(skipWithout(ADFA_DIR))("homeostat inspect: ADFA-LD's cleaning facts", () => {
  it("match the published tree (cross-checked against the sha256 column of index.tsv)", () => {
    const r = run(["inspect", "--json", ADFA_DIR]);
    expect(r.code).toBe(0);
    const c = (JSON.parse(r.stdout) as { cleaning: CleaningFacts }).cleaning;
    const split = (n: string) => c.groups.find((g) => g.kind === "split" && g.name === n)!;
    expect([split("training"), split("validation"), split("attack")].map((g) => [g.traces, g.distinct])).toEqual([
      [833, 780],
      [4_372, 2_420],
      [746, 732],
    ]);
    const pairs = c.splits.map((s) => [s.first, s.second, s.sequences, s.secondInFirst, s.firstInSecond]);
    expect(pairs).toEqual([
      ["training", "validation", 78, 422, 107],
      ["training", "attack", 0, 0, 0],
      ["validation", "attack", 2, 6, 2],
    ]);
    expect([c.conflicts.sequences, c.conflicts.traces]).toEqual([2, 8]);
    expect(c.degenerate.empty.count).toBe(0);
    expect(c.degenerate.oneDistinctCall.count).toBe(47);
    expect(c.degenerate.shorterThanWindow.count).toBe(0);
    expect(c.distinct).toBe(3_852);
    console.log(
      `ADFA-LD: ${c.distinct} distinct of ${c.traces}; duplicates ${c.groups.map((g) => `${g.name} ${g.duplicates}`).join(", ")}`,
    );
  });
});
