import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { readScenariosLayout, SCENARIO_SPLIT_FOLDERS } from "./scenariosLayout.js";
import { parseScenariosManifest } from "./scenariosManifest.js";

/** A program folder with one (empty-named) recording in every split, `without` left out. */
function program(root: string, name: string, without?: string): void {
  for (const split of SCENARIO_SPLIT_FOLDERS) {
    if (split === without) continue;
    mkdirSync(join(root, name, split), { recursive: true });
    writeFileSync(join(root, name, split, "r1.strace"), "");
    writeFileSync(join(root, name, split, "r1.json"), "{}");
  }
}

function thrown(f: () => unknown): HomeostatError {
  try {
    f();
  } catch (err) {
    if (err instanceof HomeostatError) return err;
    throw err;
  }
  throw new Error("expected an error");
}

describe("readScenariosLayout", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "homeostat-scenarios-layout-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("takes the programs from the folders, by name, when there is no manifest", () => {
    program(root, "nginx");
    program(root, "git");
    mkdirSync(join(root, "notes")); // no split folder: not a program
    const layout = readScenariosLayout(root);
    expect(layout.manifest).toBe(false);
    expect(layout.programs.map((p) => [p.name, p.dir])).toEqual([
      ["git", join(root, "git")],
      ["nginx", join(root, "nginx")],
    ]);
  });

  it("takes names, order and images from scenarios.json when it is there", () => {
    program(root, "nginx");
    program(root, "git");
    program(root, "unlisted");
    const manifest = {
      schema: "homeostat-scenarios/1",
      seed: 7,
      programs: [{ name: "nginx", image: "nginx:1.25", extra: 1 }, { name: "git" }],
      skipped: [{ name: "redis", reason: "image pull failed" }, "postgres"],
      builtAt: "2025-01-01",
    };
    writeFileSync(join(root, "scenarios.json"), JSON.stringify(manifest));
    const layout = readScenariosLayout(root);
    expect(layout.manifest).toBe(true);
    expect(layout.seed).toBe(7);
    expect(layout.programs).toEqual([
      { name: "nginx", image: "nginx:1.25", dir: join(root, "nginx") },
      { name: "git", dir: join(root, "git") },
    ]);
    expect(layout.skipped).toEqual([{ name: "redis", reason: "image pull failed" }, { name: "postgres" }]);
  });

  it("refuses a program folder missing a split, naming the folder", () => {
    program(root, "nginx");
    program(root, "perl", "validation");
    const err = thrown(() => readScenariosLayout(root));
    expect(err.code).toBe("E_FORMAT");
    expect(err.location.file).toBe(join(root, "perl"));
    expect(err.message).toContain("validation/");
  });

  it("refuses a split with no recording, a manifest program with no folder, and a folder with no program", () => {
    program(root, "git");
    rmSync(join(root, "git", "test", "normal", "r1.strace"));
    let err = thrown(() => readScenariosLayout(root));
    expect([err.code, err.location.file]).toEqual(["E_FORMAT", join(root, "git")]);
    expect(err.message).toContain("test/normal/ holds no recording");

    writeFileSync(
      join(root, "scenarios.json"),
      JSON.stringify({ schema: "homeostat-scenarios/1", programs: [{ name: "x" }] }),
    );
    err = thrown(() => readScenariosLayout(root));
    expect([err.code, err.location.file]).toEqual(["E_FORMAT", join(root, "x")]);

    const empty = join(root, "empty");
    mkdirSync(empty);
    err = thrown(() => readScenariosLayout(empty));
    expect([err.code, err.location.file]).toEqual(["E_FORMAT", empty]);
    expect(thrown(() => readScenariosLayout(join(root, "absent"))).code).toBe("E_NOT_FOUND");
  });
});

describe("parseScenariosManifest", () => {
  it("checks the schema and the program names", () => {
    expect(thrown(() => parseScenariosManifest("{", "m.json")).code).toBe("E_PARSE");
    const v2 = thrown(() => parseScenariosManifest('{"schema":"homeostat-scenarios/2","programs":[]}', "m.json"));
    expect([v2.code, v2.location.file]).toEqual(["E_VERSION", "m.json"]);
    expect(thrown(() => parseScenariosManifest('{"schema":"other","programs":[]}', "m.json")).code).toBe("E_PARSE");
    const bad = thrown(() =>
      parseScenariosManifest('{"schema":"homeostat-scenarios/1","programs":[{"name":"../etc"}]}', "m.json"),
    );
    expect(bad.code).toBe("E_PARSE");
    expect(bad.message).toContain("programs.0.name");
  });
});
