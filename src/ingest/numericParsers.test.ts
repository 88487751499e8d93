import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { syscallTable } from "../syscalls/abi.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { adfaFormat } from "./adfaParser.js";
import type { TraceFormat } from "./format.js";
import { TraceCollector } from "./traceCollector.js";
import { unmFormat } from "./unmParser.js";

function parse(format: TraceFormat, chunks: Uint8Array[], lenient = false) {
  const vocab = new Vocabulary();
  const sink = new TraceCollector();
  let skipped = 0;
  const parser = format.createParser({ file: "t", vocab, sink, lenient, onSkip: () => skipped++ });
  sink.beginSource({ path: "t", format: format.name });
  for (const c of chunks) parser.write(c);
  parser.end();
  sink.endSource();
  return {
    traces: sink.traces.map((t) => ({ stream: t.stream, names: [...t.calls].map((id) => vocab.token(id)) })),
    skipped,
  };
}

/** Splits bytes at the given cut points (sorted, deduplicated). */
function cut(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const i386 = syscallTable("i386");
const i386Numbers = i386.names.flatMap((n, i) => (n === undefined ? [] : [i]));
const whitespace = fc.constantFrom(" ", "  ", "\t", "\n", "\r\n", " \n");

describe("ADFA-LD parser", () => {
  it("maps i386 numbers to names, whatever the whitespace and chunking", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...i386Numbers), { maxLength: 200 }),
        fc.array(whitespace, { minLength: 201, maxLength: 201 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (nums, spaces, cuts) => {
          const text = nums.map((n, i) => `${n}${spaces[i]}`).join("");
          const { traces } = parse(adfaFormat, cut(Buffer.from(text), cuts));
          const names = traces[0]?.names ?? [];
          expect(names).toEqual(nums.map((n) => i386.names[n]));
        },
      ),
    );
  });

  it("reads a file without a trailing space (the number at the end still counts)", () => {
    expect(parse(adfaFormat, [Buffer.from("3 4 5")]).traces[0]!.names).toEqual(["read", "write", "open"]);
  });

  it("names file, line and column of a malformed token, and skips it in lenient mode", () => {
    let err: unknown;
    try {
      parse(adfaFormat, [Buffer.from("3 4\n5 x7 6")]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HomeostatError);
    const h = err as HomeostatError;
    expect(h.code).toBe("E_PARSE");
    expect(h.location).toMatchObject({ file: "t", line: 2, column: 3 });
    const lenient = parse(adfaFormat, [Buffer.from("3 4\n5 x7 6")], true);
    expect(lenient.traces[0]!.names).toEqual(["read", "write", "open", "close"]);
    expect(lenient.skipped).toBe(1);
  });

  it("only ever throws typed errors on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, cuts) => {
        try {
          parse(adfaFormat, cut(bytes, cuts));
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
        }
      }),
    );
  });
});

describe("UNM parser", () => {
  it("splits interleaved processes into one trace per pid, from a real strace capture", () => {
    // A real run of a forking shell, turned into UNM's `PID NUMBER` layout by the test.
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-unm-"));
    try {
      const out = path.join(dir, "s.txt");
      execFileSync("strace", ["-f", "-qq", "-o", out, "sh", "-c", "ls / >/dev/null; echo hi >/dev/null"]);
      const perPid = new Map<number, string[]>();
      const lines: string[] = [];
      const table = syscallTable("x86_64");
      for (const line of readFileSync(out, "utf8").split("\n")) {
        const m = /^(\d+)\s+([a-z_0-9]+)\(/.exec(line);
        if (!m || line.includes("resumed>")) continue;
        const n = table.numberOf(m[2]!);
        if (n === undefined) continue;
        lines.push(`${m[1]} ${n} `);
        const list = perPid.get(Number(m[1])) ?? [];
        list.push(`#${n}`);
        perPid.set(Number(m[1]), list);
      }
      expect(perPid.size).toBeGreaterThan(1);
      const { traces } = parse(unmFormat, [Buffer.from(`${lines.join("\n")}\n`)]);
      expect(new Map(traces.map((t) => [t.stream, t.names]))).toEqual(perPid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is chunking-invariant on generated data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 99999 }), fc.integer({ min: 0, max: 400 })), { maxLength: 100 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pairs, cuts) => {
          const text = pairs.map(([p, s]) => `${p} ${s}  \n`).join("");
          const whole = parse(unmFormat, [Buffer.from(text)]);
          expect(parse(unmFormat, cut(Buffer.from(text), cuts))).toEqual(whole);
          expect(whole.traces.reduce((a, t) => a + t.names.length, 0)).toBe(pairs.length);
        },
      ),
    );
  });

  it("rejects lines that are not `PID SYSCALL`, naming the line", () => {
    for (const bad of ["12\n", "12 abc\n", "12 3 4\n", "hello world\n"]) {
      let err: unknown;
      try {
        parse(unmFormat, [Buffer.from(`1 2\n${bad}`)]);
      } catch (e) {
        err = e;
      }
      expect((err as HomeostatError).code).toBe("E_PARSE");
      expect((err as HomeostatError).location.line).toBe(2);
    }
  });

  it("only ever throws typed errors on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parse(unmFormat, [bytes]);
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
        }
      }),
    );
  });

  it("is told apart from ADFA-LD by sniffing", () => {
    const unm = Buffer.from("120 5\n120 3\n121 4\n");
    const adfa = Buffer.from("3 4 5 6 3 4 5 6 ");
    expect(unmFormat.sniff(unm, "x")).toBeGreaterThan(adfaFormat.sniff(unm, "x"));
    expect(adfaFormat.sniff(adfa, "x")).toBeGreaterThan(unmFormat.sniff(adfa, "x"));
  });
});
