import { afterEach, describe, expect, it, vi } from "vitest";
import { type ErrorCode, HomeostatError, ParseError } from "../errors.js";
import {
  EXIT_CLASS,
  EXIT_ENVIRONMENT,
  EXIT_INTERNAL,
  EXIT_USAGE,
  exitCodeOf,
  exitCodesHelp,
  reportError,
} from "./errors.js";

const ALL_CODES = Object.keys(EXIT_CLASS) as ErrorCode[];

describe("exit codes by failure class", () => {
  it("usage and input errors exit 2", () => {
    for (const code of [
      "E_USAGE",
      "E_PARSE",
      "E_FORMAT",
      "E_NOT_FOUND",
      "E_LIMIT",
      "E_ARCHIVE",
      "E_CHECKSUM",
      "E_VERSION",
      "E_VOCAB",
      "E_MODEL",
    ] as const) {
      expect(exitCodeOf(new HomeostatError(code, "x")), code).toBe(EXIT_USAGE);
      expect(exitCodeOf(new HomeostatError(code, "x", { file: "f" })), code).toBe(EXIT_USAGE);
    }
    expect(exitCodeOf(new ParseError("bad", { file: "t.txt", line: 3 }))).toBe(2);
  });

  it("a missing tool or kernel feature and a refused permission exit 3", () => {
    expect(exitCodeOf(new HomeostatError("E_DEPENDENCY", "strace is not installed"))).toBe(EXIT_ENVIRONMENT);
    expect(exitCodeOf(new HomeostatError("E_PERMISSION", "ptrace is not permitted"))).toBe(3);
    expect(exitCodeOf(new HomeostatError("E_PERMISSION", "cannot create the state directory", { file: "/x" }))).toBe(3);
    expect(exitCodeOf(new HomeostatError("E_NO_SPACE", "cannot write: no space left", { file: "/x" }))).toBe(3);
  });

  it("E_IO is input when it names a file, environment otherwise", () => {
    expect(exitCodeOf(new HomeostatError("E_IO", "cannot read profile", { file: "p.profile" }))).toBe(2);
    expect(exitCodeOf(new HomeostatError("E_IO", "reading strace output: EPIPE"))).toBe(3);
  });

  it("anything that is not a HomeostatError, or carries a code outside the table, is internal (70)", () => {
    expect(exitCodeOf(new Error("boom"))).toBe(EXIT_INTERNAL);
    expect(exitCodeOf(new TypeError("x is undefined"))).toBe(70);
    expect(exitCodeOf("a string")).toBe(70);
    expect(exitCodeOf(undefined)).toBe(70);
    expect(exitCodeOf(null)).toBe(70);
    expect(exitCodeOf(new HomeostatError("E_INTERNAL" as ErrorCode, "x"))).toBe(70);
    expect(exitCodeOf(new HomeostatError("toString" as ErrorCode, "x"))).toBe(70);
  });

  it("every code has a class, and every class is 2 or 3", () => {
    expect(ALL_CODES.length).toBe(15);
    for (const code of ALL_CODES) {
      expect([2, 3]).toContain(exitCodeOf(new HomeostatError(code, "x")));
      expect([2, 3]).toContain(exitCodeOf(new HomeostatError(code, "x", { file: "f" })));
    }
  });

  it("the help prints the same table: every code, and the codes 0 1 2 3 70", () => {
    const help = exitCodesHelp();
    for (const code of ALL_CODES) expect(help).toContain(code);
    for (const n of ["0", "1", "2", "3", "70"]) expect(help).toMatch(new RegExp(`^  ${n} `, "m"));
    const environment = help.slice(help.indexOf("\n  3 "), help.indexOf("\n  70 "));
    expect(environment).toContain("E_DEPENDENCY");
    expect(environment).toContain("E_PERMISSION");
    expect(environment).not.toContain("E_USAGE");
    for (const line of help.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe("reportError", () => {
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      lines.push(String(s));
      return true;
    });
    return lines;
  };

  it("one line per HomeostatError, with its exit code; a stack only with --debug", () => {
    const out = capture();
    expect(reportError(new HomeostatError("E_DEPENDENCY", "bpftrace is not installed"), false)).toBe(3);
    expect(reportError(new HomeostatError("E_NOT_FOUND", "no such file", { file: "x" }), false)).toBe(2);
    expect(out).toEqual([
      "homeostat: error [E_DEPENDENCY]: bpftrace is not installed\n",
      "homeostat: error [E_NOT_FOUND]: x: no such file\n",
    ]);
    out.length = 0;
    expect(reportError(new HomeostatError("E_USAGE", "bad"), true)).toBe(2);
    expect(out).toHaveLength(2);
    expect(out[1]).toMatch(/\n?\s+at /);
  });

  it("an internal error says so and asks for a report", () => {
    const out = capture();
    expect(reportError(new Error("boom"), false)).toBe(70);
    expect(out[0]).toBe("homeostat: internal error: boom\n");
    expect(out[1]).toMatch(/--debug/);
  });
});
