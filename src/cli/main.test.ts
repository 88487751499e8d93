import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, REPO_ROOT } from "../testing/paths.js";
import { buildProgram, COMMAND_NAMES, commandsNeeded } from "./main.js";

const CLI_DIR = path.dirname(fileURLToPath(import.meta.url));

describe("which command modules a command line needs", () => {
  it("none for --version, wherever it is before `--`", () => {
    expect(commandsNeeded(["--version"])).toEqual([]);
    expect(commandsNeeded(["-V"])).toEqual([]);
    expect(commandsNeeded(["--debug", "--version"])).toEqual([]);
    expect(commandsNeeded(["score", "--version"])).toEqual([]);
  });

  it("the named command only, also for `help CMD`", () => {
    expect(commandsNeeded(["profiles", "list", "--state", "x"])).toEqual(["profiles"]);
    expect(commandsNeeded(["--debug", "score", "-p", "p", "t"])).toEqual(["score"]);
    expect(commandsNeeded(["score", "--help"])).toEqual(["score"]);
    expect(commandsNeeded(["help", "train"])).toEqual(["train"]);
    expect(commandsNeeded(["--debug", "help", "--debug", "train"])).toEqual(["train"]);
    expect(commandsNeeded(["record", "--", "ls", "--version"])).toEqual(["record"]);
  });

  it("every one for the top-level help, a bare `homeostat`, and an unknown command (for its suggestion)", () => {
    expect(commandsNeeded([])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["--help"])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["help"])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["scor"])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["--", "--version"])).toEqual(COMMAND_NAMES);
    // An option the program does not know ends its operands: commander then shows the top-level help (or an error).
    expect(commandsNeeded(["-h", "score"])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["--bogus", "score"])).toEqual(COMMAND_NAMES);
    expect(commandsNeeded(["help", "--debug", "-x", "score"])).toEqual(COMMAND_NAMES);
  });

  it("builds the program with every command, in the table's order", async () => {
    const program = await buildProgram({ exitCode: 0 });
    expect(program.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
    const one = await buildProgram({ exitCode: 0 }, ["inspect", "x"]);
    expect(one.commands.map((c) => c.name())).toEqual(["inspect"]);
  });
});

describe("no cycle: nothing in src/cli imports main.ts", () => {
  it("only the barrel (index.ts) re-exports it", () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) files.push(p);
      }
    };
    walk(CLI_DIR);
    expect(files.length).toBeGreaterThan(20);
    const importers = files.filter((f) =>
      /from\s+["'](?:\.\.?\/)+main\.js["']|import\(["'](?:\.\.?\/)+main\.js["']\)/.test(readFileSync(f, "utf8")),
    );
    expect(importers.map((f) => path.relative(CLI_DIR, f))).toEqual(["index.ts"]);
  });
});

describe("start-up loads only what the command line needs", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-startup-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // An ESM resolve hook that logs every module homeostat's process resolves.
  writeFileSync(
    path.join(dir, "hooks.mjs"),
    'import { appendFileSync } from "node:fs";\n' +
      "export async function resolve(specifier, context, next) {\n" +
      "  const r = await next(specifier, context);\n" +
      "  appendFileSync(process.env.HOMEOSTAT_TRACE_MODULES, `${r.url}\\n`);\n" +
      "  return r;\n}\n",
  );
  writeFileSync(
    path.join(dir, "register.mjs"),
    'import { register } from "node:module";\nregister(new URL("./hooks.mjs", import.meta.url));\n',
  );
  let n = 0;
  const modulesOf = (args: string[]): { status: number | null; stdout: string; modules: string[] } => {
    const trace = path.join(dir, `trace-${n++}.txt`);
    writeFileSync(trace, "");
    const r = spawnSync(process.execPath, ["--import", path.join(dir, "register.mjs"), BIN, ...args], {
      encoding: "utf8",
      env: { ...process.env, HOMEOSTAT_TRACE_MODULES: trace, NO_COLOR: "1" },
    });
    const dist = `file://${path.join(REPO_ROOT, "dist")}/`;
    const modules = readFileSync(trace, "utf8")
      .split("\n")
      .filter((u) => u.startsWith(dist))
      .map((u) => u.slice(dist.length));
    return { status: r.status, stdout: r.stdout, modules: [...new Set(modules)].sort() };
  };

  it("--version: no command module", () => {
    const r = modulesOf(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(
      (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version,
    );
    expect(r.modules).toEqual(["cli/errors.js", "cli/main.js", "cli/version.js", "errors.js"]);
  });

  it("profiles list: the store, not the profile models", () => {
    const r = modulesOf(["profiles", "list", "--state", path.join(dir, "state")]);
    expect(r.modules).toContain("store/stateStore.js");
    expect(r.modules).toContain("cli/actions/profilesList.js");
    // The store's own modules and the errors, nothing of the models, lifecycle or engine.
    expect(r.modules.filter((m) => !m.startsWith("cli/") && !m.startsWith("store/") && m !== "errors.js")).toEqual([]);
    expect(r.modules).not.toContain("cli/actions/profiles.js");
  });

  it("score --help: score's registration, not its implementation", () => {
    const r = modulesOf(["score", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: homeostat score \[options\] <path\.\.\.>/);
    expect(r.stdout).toMatch(/--threshold <value>/);
    expect(r.modules).toContain("cli/commands/score.js");
    // ingest/format.js is the list of format names (--format's check), not a parser; models/numberText.js the
    // strict number rule the numeric options share with model specs (a leaf of no imports but errors.js).
    const heavy = r.modules.filter(
      (m) => m.startsWith("cli/actions/") || m.startsWith("ingest/") || m.startsWith("models/"),
    );
    expect(heavy).toEqual(["ingest/format.js", "models/numberText.js"]);
  });

  it("the top-level help lists every command and the exit codes", () => {
    const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    for (const name of COMMAND_NAMES) expect(r.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    expect(r.stdout).toMatch(/Exit codes:\n {2}0 {3}success/);
    expect(r.stdout).toMatch(/^ {2}3 {3}environment/m);
    expect(r.stdout).toMatch(/^ {2}70 {2}internal/m);
  });
});
