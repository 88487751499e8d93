import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ErrorCode, HomeostatError } from "../errors.js";
import { AbiMapper, syscallTable } from "../syscalls/abi.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import {
  BINARY_TRACE_VERSION,
  type BinaryReadSummary,
  binaryTraceFormat,
  createBinaryTraceParser,
  HEADER_BYTES,
  NOTE_KINDS,
  readBinaryTrace,
  readBinaryTraceFile,
} from "./binaryTrace.js";
import { BinaryTraceWriter, type BinaryTraceWriterOptions, openBinaryTraceWriter } from "./binaryTraceWriter.js";
import type { EventSink, NoteKind, SourceInfo, StreamNote } from "./event.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const adfaDir = path.resolve(repoRoot, "../shared/datasets/adfa-ld/Training_Data_Master");
const adfaExists = existsSync(adfaDir);
if (!adfaExists) {
  console.log(`skipping the ADFA-LD round trip: ${adfaDir} is absent`);
}

const DETECTED: readonly ErrorCode[] = ["E_CHECKSUM", "E_ARCHIVE", "E_PARSE", "E_VERSION", "E_FORMAT"];

/** Exact text of a number: tells -0 from 0 and keeps NaN. */
function num(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

function sourceText(s: SourceInfo): string {
  return JSON.stringify({
    path: s.path,
    format: s.format,
    label: s.label,
    split: s.split,
    attackType: s.attackType,
    attackInstance: s.attackInstance,
    attackTime: s.attackTime,
    meta: s.meta,
  });
}

/** Records events as text (syscalls as tokens), so traces read with different vocabularies compare. */
class Recorder implements EventSink {
  readonly events: string[] = [];
  calls = 0;
  constructor(private readonly vocab: Vocabulary) {}
  beginSource(source: SourceInfo): void {
    this.events.push(`begin ${sourceText(source)}`);
  }
  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    this.calls++;
    const a = args === undefined ? "-" : JSON.stringify(args);
    this.events.push(`call ${stream} ${JSON.stringify(this.vocab.token(syscall))} ${num(time)} ${num(ret)} ${a}`);
  }
  note(stream: number, note: StreamNote): void {
    const code = note.code === undefined ? "-" : num(note.code);
    const detail = note.detail === undefined ? "-" : JSON.stringify(note.detail);
    this.events.push(`note ${stream} ${note.kind} ${num(note.time)} ${code} ${detail}`);
  }
  endSource(): void {
    this.events.push("end");
  }
}

type Op =
  | { t: "call"; stream: number; sys: number; time: number; ret: number; args: string | undefined }
  | {
      t: "note";
      stream: number;
      kind: NoteKind;
      time: number;
      detail: string | undefined;
      code: number | undefined;
    }
  | { t: "begin"; source: SourceInfo }
  | { t: "end" }
  | { t: "flush" };

const timeArb = fc.oneof(
  fc.constant(Number.NaN),
  fc.double(),
  fc.maxSafeNat().map((x) => (1.6e15 + (x % 2e14)) / 1e6), // strace -ttt epoch microseconds
  fc.nat({ max: 10_000_000 }).map((x) => x / 1e3),
);
const retArb = fc.oneof(
  fc.constant(Number.NaN),
  fc.integer({ min: -4095, max: 1 << 22 }),
  fc.double(),
  fc.constant(-0),
  fc.constant(2 ** 52),
);
const streamArb = fc.oneof(fc.constantFrom(0, 1, 4242), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const textArb = fc.string({ unit: "binary", maxLength: 40 });
const sourceArb: fc.Arbitrary<SourceInfo> = fc.record(
  {
    path: textArb,
    format: fc.constantFrom("strace", "adfa", "unm", "lidds2021"),
    label: fc.constantFrom("normal" as const, "attack" as const),
    split: textArb,
    attackType: textArb,
    attackInstance: textArb,
    attackTime: fc.double({ noNaN: true, noDefaultInfinity: true }),
    meta: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  },
  { requiredKeys: ["path", "format"] },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      t: fc.constant("call" as const),
      stream: streamArb,
      sys: fc.nat(),
      time: timeArb,
      ret: retArb,
      args: fc.option(textArb, { nil: undefined }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("note" as const),
      stream: streamArb,
      kind: fc.constantFrom(...NOTE_KINDS),
      time: timeArb,
      detail: fc.option(textArb, { nil: undefined }),
      code: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("begin" as const), source: sourceArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("end" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("flush" as const) }) },
);
const scriptArb = fc.record({
  tokens: fc.uniqueArray(fc.string({ unit: "binary", minLength: 1, maxLength: 12 }), {
    minLength: 1,
    maxLength: 300,
  }),
  ops: fc.array(opArb, { maxLength: 150 }),
  batchSize: fc.integer({ min: 1, max: 40 }),
  bufferBytes: fc.constantFrom(0, 100, 1 << 20),
});
type Script = typeof scriptArb extends fc.Arbitrary<infer T> ? T : never;

interface Written {
  bytes: Uint8Array;
  /** Byte offsets where output was handed on (whole blocks end there). */
  boundaries: number[];
  /** Expected events (as the Recorder writes them), in order. */
  expected: string[];
}

/** Plays a script into a writer and, independently, into the list of events expected back. */
function writeScript(s: Script, opts: { close?: boolean } = {}): Written {
  const vocab = new Vocabulary(s.tokens);
  const chunks: Uint8Array[] = [];
  const boundaries: number[] = [];
  let size = 0;
  const options: BinaryTraceWriterOptions = { batchSize: s.batchSize, bufferBytes: s.bufferBytes };
  const w = new BinaryTraceWriter(
    (b) => {
      chunks.push(b);
      size += b.length;
      boundaries.push(size);
    },
    vocab,
    options,
  );
  const expected: string[] = [];
  const rec = new Recorder(vocab);
  let open = false;
  for (const op of s.ops) {
    switch (op.t) {
      case "call": {
        const id = op.sys % s.tokens.length;
        w.call(op.stream, id, op.time, op.ret, op.args);
        rec.call(op.stream, id, op.time, op.ret, op.args);
        break;
      }
      case "note": {
        const note: StreamNote = { kind: op.kind, time: op.time };
        if (op.detail !== undefined) note.detail = op.detail;
        if (op.code !== undefined) note.code = op.code;
        w.note(op.stream, note);
        rec.note(op.stream, note);
        break;
      }
      case "begin":
        if (open) break;
        w.beginSource(op.source);
        rec.beginSource(op.source);
        open = true;
        break;
      case "end":
        if (!open) break;
        w.endSource();
        rec.endSource();
        open = false;
        break;
      case "flush":
        w.flush();
        break;
    }
  }
  if (opts.close === false) {
    w.flush();
  } else {
    if (open) rec.endSource();
    w.close();
  }
  expected.push(...rec.events);
  return { bytes: Buffer.concat(chunks), boundaries, expected };
}

interface ReadResult extends BinaryReadSummary {
  events: string[];
  /** Truncations ignored in lenient mode, as reported to onSkip. */
  skipped: number;
}

/** Reads bytes in the given chunk sizes (cycled) with a fresh, differently ordered vocabulary. */
function readBytes(
  bytes: Uint8Array,
  opts: { lenient?: boolean; chunks?: number[]; keepArgs?: boolean; seedTokens?: string[] } = {},
): ReadResult {
  const vocab = new Vocabulary(opts.seedTokens ?? ["not-a-syscall", "read"]);
  const rec = new Recorder(vocab);
  let skipped = 0;
  const parser = createBinaryTraceParser({
    file: "test.hst",
    vocab,
    sink: rec,
    lenient: opts.lenient,
    keepArgs: opts.keepArgs ?? true,
    onSource: (s) => rec.beginSource(s),
    onEndSource: () => rec.endSource(),
    onSkip: () => skipped++,
  });
  const sizes = opts.chunks ?? [bytes.length];
  let off = 0;
  let k = 0;
  while (off < bytes.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    parser.write(bytes.subarray(off, off + n));
    off += n;
  }
  parser.end();
  return {
    events: rec.events,
    skipped,
    complete: parser.complete,
    truncatedAt: parser.truncatedAt,
    calls: parser.calls,
    notes: parser.notes,
    sources: parser.sources,
  };
}

function codeOf(f: () => unknown): ErrorCode | "ok" {
  try {
    f();
    return "ok";
  } catch (err) {
    if (err instanceof HomeostatError) return err.code;
    throw err;
  }
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((x, i) => x === b[i]);
}

/** A small script with a few of everything, for the exhaustive corruption and truncation tests. */
function smallScript(): Script {
  const ops: Op[] = [
    { t: "call", stream: 7, sys: 0, time: Number.NaN, ret: Number.NaN, args: undefined },
    { t: "begin", source: { path: "a/b.txt", format: "strace", label: "attack", meta: { x: [1, "y"] } } },
    { t: "call", stream: 100, sys: 1, time: 1700000000.123456, ret: 3, args: 'fd=3, "x"' },
    { t: "call", stream: 100, sys: 2, time: 1700000000.123499, ret: -2, args: undefined },
    { t: "note", stream: 100, kind: "exec", time: 1700000000.2, detail: "/bin/ls", code: undefined },
    { t: "call", stream: 101, sys: 1, time: 0.5, ret: 1.25, args: "é" },
    { t: "call", stream: 101, sys: 3, time: 1e300, ret: Number.NaN, args: undefined },
    { t: "note", stream: 101, kind: "exit", time: Number.NaN, detail: undefined, code: 0 },
    { t: "end" },
    { t: "call", stream: -5, sys: 2, time: 2, ret: 0, args: undefined },
  ];
  return { tokens: ["open", "read", "write", "exit_group"], ops, batchSize: 2, bufferBytes: 0 };
}

describe("binary trace round trip", () => {
  it("reads back exactly what was written, in any chunking (property)", () => {
    fc.assert(
      fc.property(
        scriptArb,
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        (s, chunks) => {
          const w = writeScript(s);
          const whole = readBytes(w.bytes);
          expect(whole.events).toEqual(w.expected);
          expect(whole.complete).toBe(true);
          const chunked = readBytes(w.bytes, { chunks, seedTokens: [...s.tokens].reverse() });
          expect(chunked.events).toEqual(w.expected);
          expect(chunked.complete).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("round-trips more than 256 distinct syscalls (two-byte ids)", () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => `sys_${i}`);
    const rng = fc.sample(fc.nat({ max: 999 }), { numRuns: 5000, seed: 42 });
    const ops: Op[] = rng.map((sys, i) => ({
      t: "call",
      stream: i % 3,
      sys,
      time: i,
      ret: i,
      args: undefined,
    }));
    const w = writeScript({ tokens, ops, batchSize: 700, bufferBytes: 0 });
    const r = readBytes(w.bytes, { chunks: [777] });
    expect(r.events).toEqual(w.expected);
    expect(r.calls).toBe(5000);
  });

  it("drops arguments unless keepArgs is set", () => {
    const w = writeScript(smallScript());
    const r = readBytes(w.bytes, { keepArgs: false });
    expect(r.events).toEqual(w.expected.map((e) => e.replace(/^(call \S+ \S+ \S+ \S+) .*$/, "$1 -")));
    expect(r.events).not.toEqual(w.expected);
  });

  it("stores strace-like times and small return values compactly", () => {
    const ops: Op[] = [];
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < 20_000; i++) {
      t += 1 + ((i * 7919) % 300);
      ops.push({
        t: "call",
        stream: 4000 + (i >> 10),
        sys: i % 40,
        time: t / 1e6,
        ret: (i % 9) - 2,
        args: undefined,
      });
    }
    const tokens = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const w = writeScript({ tokens, ops, batchSize: 65_536, bufferBytes: 1 << 20 });
    // Raw columns would take 4 + 2 + 8 + 8 = 22 bytes a call.
    expect(w.bytes.length / ops.length).toBeLessThan(5);
    expect(readBytes(w.bytes).events).toEqual(w.expected);
  });

  it("reads a file and brackets its sources (and events outside any) for the sink", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-bin-"));
    try {
      const file = path.join(dir, "t.hst");
      const vocab = new Vocabulary(["read", "write"]);
      const w = openBinaryTraceWriter(file, vocab);
      w.call(1, 0, Number.NaN, Number.NaN, undefined);
      w.beginSource({ path: "x", format: "adfa", label: "normal", split: "training" });
      w.call(0, 1, Number.NaN, 5, undefined);
      w.endSource();
      w.close();
      const v2 = new Vocabulary();
      const rec = new Recorder(v2);
      const sum = await readBinaryTraceFile(file, v2, rec);
      expect(sum.complete).toBe(true);
      expect(rec.events).toEqual([
        `begin ${sourceText({ path: file, format: "homeostat" })}`,
        'call 1 "read" NaN NaN -',
        "end",
        `begin ${sourceText({ path: "x", format: "adfa", label: "normal", split: "training" })}`,
        'call 0 "write" NaN 5 -',
        "end",
      ]);
      const missing = await readBinaryTraceFile(path.join(dir, "nope"), v2, rec).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(HomeostatError);
      expect((missing as HomeostatError).code).toBe("E_NOT_FOUND");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sniffs its magic bytes and nothing else", () => {
    const w = writeScript(smallScript());
    expect(binaryTraceFormat.sniff(w.bytes.subarray(0, 64), "x")).toBe(1);
    expect(binaryTraceFormat.sniff(Buffer.from("1234 5 6\n"), "x.txt")).toBe(0);
    expect(binaryTraceFormat.sniff(w.bytes.subarray(0, 4), "x")).toBe(0);
    expect(binaryTraceFormat.name).toBe("homeostat");
  });

  it("rejects misuse of the writer with typed errors", () => {
    const vocab = new Vocabulary(["read"]);
    const w = new BinaryTraceWriter(() => {}, vocab);
    expect(codeOf(() => w.call(0, 5, 0, 0, undefined))).toBe("E_VOCAB");
    expect(codeOf(() => w.call(2 ** 31, 0, 0, 0, undefined))).toBe("E_LIMIT");
    expect(codeOf(() => w.endSource())).toBe("E_USAGE");
    w.close();
    expect(codeOf(() => w.call(0, 0, 0, 0, undefined))).toBe("E_USAGE");
  });
});

describe("binary trace damage", () => {
  it("detects every single-byte corruption of a small file", () => {
    const w = writeScript(smallScript());
    const original = readBytes(w.bytes);
    expect(original.events).toEqual(w.expected);
    for (let i = 0; i < w.bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Uint8Array.from(w.bytes);
        bad[i]! ^= mask;
        const strict = codeOf(() => readBytes(bad));
        expect(DETECTED, `byte ${i} ^ ${mask}`).toContain(strict);
        // Lenient mode may drop a damaged tail (reporting the file incomplete), never return wrong events.
        let lenient: ReadResult | undefined;
        const code = codeOf(() => {
          lenient = readBytes(bad, { lenient: true });
        });
        if (code === "ok") {
          expect(lenient!.complete).toBe(false);
          expect(isPrefix(lenient!.events, w.expected)).toBe(true);
        } else {
          expect(DETECTED).toContain(code);
        }
      }
    }
  });

  it("detects a corrupted byte anywhere in generated files (property)", () => {
    fc.assert(
      fc.property(scriptArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, mask) => {
        const w = writeScript(s);
        const bad = Uint8Array.from(w.bytes);
        bad[at % bad.length]! ^= mask;
        expect(DETECTED).toContain(codeOf(() => readBytes(bad, { chunks: [97] })));
      }),
      { numRuns: 200 },
    );
  });

  it("reads a file cut at every offset: strict fails unless cut between blocks, lenient keeps whole blocks", () => {
    const w = writeScript(smallScript());
    const full = w.bytes.length;
    const cuts = new Set(w.boundaries);
    expect(cuts.has(HEADER_BYTES)).toBe(true);
    let atBoundary: ReadResult | undefined;
    for (let k = 0; k < full; k++) {
      const part = w.bytes.subarray(0, k);
      if (cuts.has(k)) {
        const r = readBytes(part);
        expect(r.complete).toBe(false);
        expect(r.truncatedAt).toBeUndefined();
        expect(isPrefix(r.events, w.expected)).toBe(true);
        if (atBoundary !== undefined) expect(r.events.length).toBeGreaterThanOrEqual(atBoundary.events.length);
        atBoundary = r;
      } else {
        expect(
          codeOf(() => readBytes(part)),
          `cut at ${k}`,
        ).toBe("E_ARCHIVE");
        const r = readBytes(part, { lenient: true, chunks: [3] });
        expect(r.skipped).toBe(1);
        expect(r.complete).toBe(false);
        expect(r.truncatedAt).toBe(atBoundary === undefined ? 0 : Math.max(...[...cuts].filter((c) => c < k)));
        expect(r.events).toEqual(atBoundary?.events ?? []);
      }
    }
    // The last cut, just before END, holds every event but is not complete.
    expect(atBoundary!.events).toEqual(w.expected);
  });

  it("reads a file that was flushed but never closed as incomplete (Ctrl-C)", () => {
    fc.assert(
      fc.property(scriptArb, (s) => {
        const w = writeScript(s, { close: false });
        const r = readBytes(w.bytes);
        expect(r.complete).toBe(false);
        // Without close() an open source has no END_SOURCE, and writeScript expects no "end" for it either.
        expect(r.events).toEqual(w.expected);
      }),
      { numRuns: 50 },
    );
  });

  it("notices a whole block gone missing through the END totals", () => {
    const w = writeScript(smallScript());
    const b = w.boundaries;
    // Drop the block of each boundary pair in the middle; the file then lacks events the trailer counts.
    let checked = 0;
    for (let i = 1; i + 1 < b.length; i++) {
      const cut = Buffer.concat([w.bytes.subarray(0, b[i - 1]), w.bytes.subarray(b[i])]);
      const code = codeOf(() => readBytes(cut));
      expect(["E_ARCHIVE", "E_PARSE"]).toContain(code);
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it("fails on a bad checksum even in lenient mode", () => {
    const w = writeScript(smallScript());
    const bad = Uint8Array.from(w.bytes);
    bad[w.boundaries[2]! + 6]! ^= 0x10; // a payload byte of a middle block
    expect(codeOf(() => readBytes(bad, { lenient: true }))).toBe("E_CHECKSUM");
    const err = (() => {
      try {
        readBytes(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HomeostatError);
    expect((err as HomeostatError).location.file).toBe("test.hst");
    expect((err as HomeostatError).message).toContain(`byte offset ${w.boundaries[2]}`);
  });

  it("rejects an unknown format version or header flag as E_VERSION", () => {
    const w = writeScript(smallScript());
    for (const [at, value] of [
      [8, BINARY_TRACE_VERSION + 1],
      [8, 0],
      [10, 1],
    ] as const) {
      const bad = Buffer.from(w.bytes);
      bad.writeUInt16LE(value, at);
      // The version is checked before the header checksum (a newer header may differ), flags after it.
      expect(codeOf(() => readBytes(bad))).toBe(at === 8 ? "E_VERSION" : "E_CHECKSUM");
      bad.writeUInt32LE(crc32(bad.subarray(0, 12)), 12); // even with a matching header checksum
      expect(codeOf(() => readBytes(bad))).toBe("E_VERSION");
      expect(codeOf(() => readBytes(bad, { lenient: true }))).toBe("E_VERSION");
    }
  });

  it("answers random bytes with typed errors only (property)", () => {
    const header = writeScript({ tokens: ["a"], ops: [], batchSize: 1, bufferBytes: 0 }).bytes.subarray(
      0,
      HEADER_BYTES,
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.boolean(), (tail, withHeader, lenient) => {
        const bytes = withHeader ? Buffer.concat([header, tail]) : tail;
        const code = codeOf(() => readBytes(bytes, { lenient }));
        if (!lenient && tail.length > 0) expect(DETECTED).toContain(code);
        else if (code !== "ok") expect(DETECTED).toContain(code);
      }),
      { numRuns: 500 },
    );
  });

  it("validates the payload of blocks with good checksums (property)", () => {
    const header = writeScript({ tokens: ["a"], ops: [], batchSize: 1, bufferBytes: 0 }).bytes.subarray(
      0,
      HEADER_BYTES,
    );
    const block = (type: number, payload: Uint8Array): Buffer => {
      const head = Buffer.alloc(5);
      head[0] = type;
      head.writeUInt32LE(payload.length, 1);
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(crc32(Buffer.concat([head, payload])), 0);
      return Buffer.concat([head, payload, crc]);
    };
    const vocabBlock = block(3, Buffer.from([2, 0, 0, 0, 1, 0x61, 1, 0x62]));
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.integer({ min: 0, max: 0x90 }), payload: fc.uint8Array({ maxLength: 60 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        (blocks) => {
          const bytes = Buffer.concat([header, vocabBlock, ...blocks.map((b) => block(b.type, b.payload))]);
          const code = codeOf(() => readBytes(bytes));
          if (code !== "ok") expect(DETECTED).toContain(code);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe.skipIf(!adfaExists)("binary trace with real ADFA-LD traces", () => {
  it("round-trips 200 training traces with their sources", () => {
    const files = readdirSync(adfaDir)
      .filter((f) => f.endsWith(".txt"))
      .sort()
      .slice(0, 200);
    const vocab = new Vocabulary();
    const mapper = new AbiMapper(syscallTable("i386"), vocab);
    const chunks: Uint8Array[] = [];
    const w = new BinaryTraceWriter((b) => chunks.push(b), vocab);
    const expected: string[] = [];
    const rec = new Recorder(vocab);
    let calls = 0;
    for (const f of files) {
      const info: SourceInfo = {
        path: path.join(adfaDir, f),
        format: "adfa",
        label: "normal",
        split: "training",
      };
      w.beginSource(info);
      rec.beginSource(info);
      for (const word of readFileSync(path.join(adfaDir, f), "latin1").split(/\s+/)) {
        if (word === "") continue;
        const id = mapper.id(Number(word));
        w.call(0, id, Number.NaN, Number.NaN, undefined);
        rec.call(0, id, Number.NaN, Number.NaN, undefined);
        calls++;
      }
      w.endSource();
      rec.endSource();
    }
    w.close();
    expected.push(...rec.events);
    const bytes = Buffer.concat(chunks);
    const v2 = new Vocabulary(["zzz"]);
    const out = new Recorder(v2);
    const sum = readBinaryTrace(bytes, v2, out);
    expect(sum.complete).toBe(true);
    expect(sum.calls).toBe(calls);
    expect(sum.sources.length).toBe(files.length);
    expect(out.events).toEqual(expected);
    // One byte per call plus block overhead: stream runs and absent times/returns take almost nothing.
    expect(bytes.length).toBeLessThan(calls * 1.05 + files.length * 200);
  });
});
