// `homeostat eval --protocol` (the LID-DS split variants of ADFA-LD) and the labels of the grouped KS k-fold, end
// to end through bin/homeostat (run `npm run build` first), on a generated ADFA-LD-shaped tree: the terminal title,
// the JSON fields and the report header, and the usage errors for combinations that make no sense.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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

/** A normal trace unique to i (two calls of its own, then a loop), and an attack: foreign calls, per session. */
const normal = (i: number): number[] => [
  (i % 20) + 1,
  Math.floor(i / 20) + 100,
  ...Array.from({ length: 30 }, (_, j) => [3, 4, 5, 6][(j * (1 + (i % 3))) % 4]!),
];
const attack = (session: number, i: number): number[] => {
  const calls = normal(i);
  calls.splice(10 + (i % 5), 0, 11, 100 + session, 2);
  return calls;
};

describe("homeostat eval --protocol and grouped k-fold labels (generated ADFA-LD tree)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-protocol-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, calls: number[]) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), `${calls.join(" ")} \n`);
  };
  for (let i = 1; i <= 10; i++) put(`Training_Data_Master/UTD-${String(i).padStart(4, "0")}.txt`, normal(1000 + i));
  // 520 validation traces: lidds-500 moves UVD-0001..UVD-0500, 20 stay for testing.
  // UVD-0510 copies UVD-0003 (moved into training by lidds-500), UVD-0511 copies the training trace UTD-0002.
  const copyOf = new Map([
    [510, 3],
    [511, 1002],
  ]);
  for (let i = 520; i >= 1; i--) {
    put(`Validation_Data_Master/UVD-${String(i).padStart(4, "0")}.txt`, normal(copyOf.get(i) ?? i));
  }
  ["Hydra_FTP_1", "Hydra_FTP_2", "Adduser_1"].forEach((s, si) => {
    for (let i = 0; i < 4; i++) put(`Attack_Data_Master/${s}/UAD-${s}-${i}.txt`, attack(si, i));
  });
  const adfa = ["eval", "--dataset", "adfa-ld", "--data", dir, "-m", "stide:k=3", "--ensemble", "none"];

  it("strict stays the default and says so", () => {
    const r = run([...adfa, "--json", "-"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvalResult;
    expect(out.protocol).toMatchObject({ name: "adfa-ld", strict: true });
    expect(out.protocol.variant).toBeUndefined();
    expect(out.protocol.description).toMatch(/^ADFA-LD strict protocol/);
    const text = run(adfa).stdout;
    expect(text).toContain("protocol adfa-ld: strict (the data set's own split)");
  });

  it("lidds-500 trains on the first 500 validation traces and labels itself everywhere", () => {
    const report = join(dir, "..", `${dir.split("/").pop()}-lidds.html`);
    try {
      const r = run([...adfa, "--protocol", "lidds-500", "--json", "-"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as EvalResult;
      expect(out.protocol).toMatchObject({
        name: "adfa-ld",
        variant: "lidds-500",
        strict: false,
        trainingFromValidation: { count: 500, order: "file-name", first: "UVD-0001.txt", last: "UVD-0500.txt" },
      });
      expect(out.protocol.description).toMatch(/^NOT the strict ADFA-LD protocol/);
      expect(out.protocol.rules.join(" ")).toMatch(/first 500 validation traces by file name/);
      // 20 validation normals and 12 attacks are tested; a share of the normals calibrates the threshold.
      const m = out.models[0]!;
      expect(m.confusion.tp + m.confusion.fn).toBe(12);
      expect(m.confusion.fp + m.confusion.tn).toBe(16);

      const text = run([...adfa, "--protocol", "lidds-500", "--report", report]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain("protocol adfa-ld (lidds-500): NOT the strict protocol");
      expect(text.stdout).toContain("lidds-500 variant: trained also on 500 validation traces");
      const html = readFileSync(report, "utf8");
      expect(html).toContain("<h1>homeostat eval: adfa-ld (lidds-500) (not strict)</h1>");
      expect(html).toContain('<div class="warn"><b>protocol adfa-ld (lidds-500): NOT the strict protocol.</b>');
    } finally {
      rmSync(report, { force: true });
    }
  });

  it("composes with --dedupe: both variants named, the moved traces count as training", () => {
    const r = run([...adfa, "--protocol", "lidds-500", "--dedupe", "--json", "-"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvalResult;
    expect(out.protocol.variant).toBe("lidds-500+dedupe");
    expect(out.protocol.dedupe).toMatchObject({ removed: 2, normal: 2, attack: 0 });
    expect(out.protocol.dedupe!.units.map((u) => u.split("/").pop()).sort()).toEqual(["UVD-0510.txt", "UVD-0511.txt"]);
    // The strict protocol's dedupe only knows the training folder: the copy of UVD-0003 stays.
    const strict = JSON.parse(run([...adfa, "--dedupe", "--json", "-"]).stdout) as EvalResult;
    expect(strict.protocol.variant).toBe("dedupe");
    expect(strict.protocol.dedupe!.units.map((u) => u.split("/").pop())).toEqual(["UVD-0511.txt"]);
  });

  it("groups KS folds by attack session and shows random folds beside, labelled leaky", () => {
    const r = run(["eval", "--dataset", "adfa-ld", "--data", dir, "--kfold", "3", "--json", "-"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as EvalResult;
    expect(out.kfold).toMatchObject({ k: 3, grouping: "attack-session", attackGroups: 3 });
    expect(out.kfold!.random).toMatchObject({ grouping: "trace", leaky: true });
    expect(out.models.map((m) => m.name)).toEqual(["ksbigram", "ksbigram (random folds, leaky)"]);
    const text = run(["eval", "--dataset", "adfa-ld", "--data", dir, "--kfold", "3"]).stdout;
    expect(text).toContain("KS k-fold: 3 folds grouped by attack session (3 sessions");
    expect(text).toMatch(/grouped by attack session\s+542/);
    expect(text).toMatch(/random per trace \(LEAKY\)\s+542/);
    expect(text).toContain("LEAKY: traces of one attack session sit in both the training and the test folds");
  });

  it("refuses combinations that make no sense with one usage line, exit 2", () => {
    const cases: [string[], RegExp][] = [
      [[...adfa, "--protocol", "lidds-100"], /unknown --protocol "lidds-100"/],
      [[...adfa, "--protocol", "lidds-500", "--kfold", "3"], /not with --kfold/],
      [["eval", "--dataset", "lid-ds", "--data", dir, "--protocol", "lidds-500"], /needs --dataset adfa-ld/],
      [
        ["eval", "--train", dir, "--normal", dir, "--attack", dir, "--protocol", "lidds-2000"],
        /needs --dataset adfa-ld/,
      ],
      [[...adfa, "--protocol", "lidds-2000"], /moves 2000 validation traces into training, but only 520 were found/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe.skipIf(skipWithout(ADFA_DIR))("homeostat eval --protocol on ADFA-LD", () => {
  it(
    "lidds-500 trains on UVD-0001..UVD-0500 and tests the other 3,872; KS folds keep 60 sessions whole",
    {
      timeout: 120_000,
    },
    () => {
      const r = run(["eval", "--dataset", "adfa-ld", "--data", ADFA_DIR, "--protocol", "lidds-500", "-m", "stide"]);
      expect(r.code).toBe(0);
      const out = JSON.parse(
        run([
          "eval",
          "--dataset",
          "adfa-ld",
          "--data",
          ADFA_DIR,
          "--protocol",
          "lidds-500",
          "-m",
          "stide",
          "--ensemble",
          "none",
          "--json",
          "-",
        ]).stdout,
      ) as EvalResult;
      expect(out.protocol.trainingFromValidation).toEqual({
        count: 500,
        order: "file-name",
        first: "UVD-0001.txt",
        last: "UVD-0500.txt",
      });
      const m = out.models[0]!;
      const calibration = Math.round(0.2 * 3872);
      expect(m.confusion.fp + m.confusion.tn).toBe(3872 - calibration);
      expect(m.confusion.tp + m.confusion.fn).toBe(746);
      expect(r.stdout).toContain("protocol adfa-ld (lidds-500): NOT the strict protocol");
      const k = JSON.parse(
        run(["eval", "--dataset", "adfa-ld", "--data", ADFA_DIR, "--kfold", "10", "--json", "-"]).stdout,
      );
      expect(k.kfold).toMatchObject({ grouping: "attack-session", attackGroups: 60 });
      expect(k.kfold.random.leaky).toBe(true);
      expect(k.kfold.total.n).toBe(5951);
    },
  );
});
