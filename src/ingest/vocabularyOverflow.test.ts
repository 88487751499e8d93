// E_VOCAB (more than 65,535 distinct tokens) is raised by the vocabulary, which knows no file: every parser locates
// it at the file and line it was reading (format.ts, locateError), and the CLI prints that in its one line.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { MAX_VOCABULARY, Vocabulary } from "../syscalls/vocabulary.js";
import { BIN } from "../testing/paths.js";
import { adfaFormat } from "./adfaParser.js";
import { NullSink } from "./event.js";
import { locateError, type TraceFormat } from "./format.js";
import { createLidds2021Parser } from "./liddsParser.js";
import { straceFormat } from "./straceParser.js";
import { unmFormat } from "./unmParser.js";

/** 70,000 distinct tokens: past the vocabulary's 65,535 by a margin. */
const DISTINCT = 70_000;
/** The line of the first token the vocabulary cannot hold, one token a line. */
const OVERFLOW_LINE = MAX_VOCABULARY + 1;

function lines(make: (i: number) => string, n = DISTINCT): Buffer {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(make(i));
  return Buffer.from(`${out.join("\n")}\n`);
}

/** The error parsing `bytes` (in chunks of `chunk` bytes) throws; fails the test when it does not throw. */
function parseError(
  parse: { write(b: Uint8Array): void; end(): void },
  bytes: Uint8Array,
  chunk = bytes.length,
): HomeostatError {
  try {
    for (let at = 0; at < bytes.length; at += chunk) parse.write(bytes.subarray(at, at + chunk));
    parse.end();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected the vocabulary to overflow");
}

function parser(format: TraceFormat, file: string, vocab = new Vocabulary()) {
  return format.createParser({ file, vocab, sink: new NullSink() });
}

describe("E_VOCAB names the file and line where the vocabulary overflowed", () => {
  const strace = lines((i) => `sc${i}(1) = 0`);

  it("strace: 70,000 distinct syscall names, whole or in chunks", () => {
    for (const chunk of [strace.length, 65_536, 1000]) {
      const err = parseError(parser(straceFormat, "many.strace"), strace, chunk);
      expect(err.code).toBe("E_VOCAB");
      expect(err.location).toMatchObject({ file: "many.strace", line: OVERFLOW_LINE });
      expect(err.oneLine()).toMatch(
        new RegExp(`^many\\.strace:${OVERFLOW_LINE}: more than ${MAX_VOCABULARY} distinct`),
      );
    }
  });

  it("strace: a last line without a newline is located too", () => {
    // One token short of full: `read` fits, `write` on the unterminated last line overflows.
    const vocab = new Vocabulary(Array.from({ length: MAX_VOCABULARY - 1 }, (_, i) => `t${i}`));
    const err = parseError(parser(straceFormat, "last.strace", vocab), Buffer.from("read(0) = 0\nwrite(1) = 1"));
    expect(err.location).toMatchObject({ file: "last.strace", line: 2 });
  });

  it("the file where a vocabulary shared by many inputs overflows is the one named", () => {
    const vocab = new Vocabulary();
    const first = parser(straceFormat, "first.strace", vocab);
    first.write(lines((i) => `a${i}(1) = 0`, 60_000));
    first.end();
    const err = parseError(
      parser(straceFormat, "second.strace", vocab),
      lines((i) => `b${i}(1) = 0`, 10_000),
    );
    expect(err.location).toMatchObject({ file: "second.strace", line: MAX_VOCABULARY - 60_000 + 1 });
  });

  it("ADFA-LD and UNM number lists, LID-DS sysdig text", () => {
    // ADFA-LD numbers stop at 4095, so its file overflows a vocabulary that earlier inputs nearly filled.
    const nearlyFull = new Vocabulary(Array.from({ length: MAX_VOCABULARY - 1 }, (_, i) => `t${i}`));
    const adfa = parseError(parser(adfaFormat, "many.adfa", nearlyFull), Buffer.from("5\n6\n"));
    expect(adfa.location).toMatchObject({ file: "many.adfa", line: 2 });
    const unm = parseError(
      parser(unmFormat, "many.unm"),
      lines((i) => `1 ${i}`),
    );
    expect(unm.location).toMatchObject({ file: "many.unm", line: OVERFLOW_LINE });
    const sysdig = lines((i) => `${1_600_000_000_000_000_000n + BigInt(i)} 0 1 app 1 ev${i} > fd=3`);
    const lidds = parseError(
      createLidds2021Parser({ file: "many.sc", vocab: new Vocabulary(), sink: new NullSink() }),
      sysdig,
    );
    expect(lidds.code).toBe("E_VOCAB");
    expect(lidds.location).toMatchObject({ file: "many.sc", line: OVERFLOW_LINE });
  });

  it("leaves errors that already have a place, and errors about an output, as they are", () => {
    const placed = new HomeostatError("E_VOCAB", "x", { file: "a", line: 3 });
    expect(locateError(placed, "b", 9)).toBe(placed);
    const io = new HomeostatError("E_IO", "cannot write");
    expect(locateError(io, "b", 9)).toBe(io);
    const plain = new Error("bug");
    expect(locateError(plain, "b", 9)).toBe(plain);
    const located = locateError(new HomeostatError("E_VOCAB", "full"), "b", 9) as HomeostatError;
    expect(located.oneLine()).toBe("b:9: full");
    expect(located.cause).toBeInstanceOf(HomeostatError);
  });
});

describe("homeostat on an input with too many distinct syscall names", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-vocab-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 2 with one line naming the file and line", () => {
    const file = join(dir, "many.strace");
    writeFileSync(
      file,
      lines((i) => `sc${i}(1) = 0`),
    );
    const r = spawnSync(process.execPath, [BIN, "inspect", file], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `homeostat: error [E_VOCAB]: ${file}:${OVERFLOW_LINE}: more than ${MAX_VOCABULARY} distinct syscall tokens: ` +
        "this input is not a syscall trace\n",
    );
  });
});
