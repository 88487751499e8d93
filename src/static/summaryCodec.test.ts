// The binary summary format: any summary the builder can make comes back from its bytes unchanged, and bytes that
// were cut short, changed anywhere, or written by another format or analysis version decode to nothing.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EventKind, type ObjectSummary, SUMMARY_VERSION } from "./objectSummary.js";
import { type FunctionRecord, type ObjectRecord, type Ref, SummaryBuilder } from "./summaryBuilder.js";
import { crc32 } from "node:zlib";
import { summaryConsistent, summaryShapeOk } from "./summaryCheck.js";
import { decodeSummary, encodeSummary, FORMAT_VERSION, HEADER_BYTES } from "./summaryCodec.js";
import { CorruptSummary } from "./summaryFields.js";

// Names as an ELF string table can hold them: any text but NUL.
const name = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => !s.includes("\0"));
const address = fc.nat({ max: 2 ** 48 });
const small = fc.nat({ max: 40 });

/** A function whose indices are in range once the object's function count is known (`fit`). */
const functionRecord = fc.record({
  start: address,
  end: address,
  name: fc.option(name, { nil: undefined }),
  sites: fc.array(
    fc.record({
      address,
      numbers: fc.array(fc.nat({ max: 1023 }), { maxLength: 3 }),
      param: fc.integer({ min: -1, max: 5 }),
      unknown: fc.boolean(),
      fromMemory: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
  events: fc.array(
    fc.record({
      kind: fc.constantFrom(
        EventKind.Syscall,
        EventKind.Call,
        EventKind.CallIndirect,
        EventKind.Tail,
        EventKind.TailIndirect,
      ),
      site: small,
      refs: fc.array(fc.oneof(small, name), { maxLength: 2 }),
      address,
      next: fc.array(small, { maxLength: 3 }),
      exit: fc.boolean(),
    }),
    { maxLength: 5 },
  ),
  entryNext: fc.array(small, { maxLength: 3 }),
  entryExit: fc.boolean(),
  taken: fc.array(fc.oneof(small, name), { maxLength: 3 }),
  data: fc.array(small, { maxLength: 3 }),
  dataSymbols: fc.array(name, { maxLength: 2 }),
});

const objectParts = fc.record({
  functions: fc.array(functionRecord, { minLength: 1, maxLength: 6 }),
  buildId: fc.option(fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 2, maxLength: 40 }), {
    nil: undefined,
  }),
  regions: fc.array(
    fc.record({
      taken: fc.array(fc.oneof(small, name), { maxLength: 2 }),
      data: fc.array(small, { maxLength: 2 }),
      symbols: fc.array(name, { maxLength: 2 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  roots: fc.array(small, { maxLength: 3 }),
  exports: fc.uniqueArray(fc.tuple(name, small), { selector: ([n]) => n, maxLength: 4 }),
  dataExports: fc.uniqueArray(fc.tuple(name, fc.array(small, { maxLength: 2 })), {
    selector: ([n]) => n,
    maxLength: 3,
  }),
  ifuncResolvers: fc.array(small, { maxLength: 2 }),
  instructions: fc.nat(),
  arguments: fc.uniqueArray(
    fc.record({
      key: fc.nat({ max: 200 }),
      constants: fc.array(fc.nat({ max: 1023 }), { maxLength: 3 }),
      params: fc.array(fc.nat({ max: 5 }), { maxLength: 2 }),
      unknown: fc.boolean(),
    }),
    { selector: (a) => a.key, maxLength: 4 },
  ),
});

type Parts = typeof objectParts extends fc.Arbitrary<infer T> ? T : never;

/** Builds the summary the generated parts describe, with every index folded into its range. */
function build(p: Parts): ObjectSummary {
  const fns = p.functions.length;
  const regions = p.regions.length;
  const ref = (r: Ref): Ref => (typeof r === "number" ? r % fns : r);
  const builder = new SummaryBuilder();
  for (const f of p.functions) {
    const events = f.events.map((e) => ({
      ...e,
      kind: f.sites.length === 0 && e.kind === EventKind.Syscall ? EventKind.Call : e.kind,
      site: e.site % Math.max(1, f.sites.length),
      refs: e.refs.map(ref),
      next: e.next.map((n) => n % f.events.length),
    }));
    const record: FunctionRecord = {
      ...f,
      events,
      entryNext: f.events.length === 0 ? [] : f.entryNext.map((n) => n % f.events.length),
      taken: f.taken.map(ref),
      data: f.data.map((r) => r % regions),
    };
    builder.addFunction(record);
  }
  const object: ObjectRecord = {
    ...(p.buildId === undefined ? {} : { buildId: p.buildId }),
    regions: p.regions.map((r) => ({ ...r, taken: r.taken.map(ref), data: r.data.map((d) => d % regions) })),
    roots: p.roots.map((f) => f % fns),
    exports: p.exports.map(([n, f]) => [n, f % fns] as const),
    dataExports: p.dataExports.map(([n, rs]) => [n, rs.map((r) => r % regions)] as const),
    ifuncResolvers: p.ifuncResolvers.map((f) => f % fns),
    instructions: p.instructions,
  };
  const s = builder.finish(object);
  const events = s.events.kind.length;
  const args = [...p.arguments].filter((a) => a.key < events * 6).sort((a, b) => a.key - b.key);
  const rows = (pick: (a: (typeof args)[number]) => number[]) => {
    const start = new Uint32Array(args.length + 1);
    args.forEach((a, i) => (start[i + 1] = start[i]! + pick(a).length));
    return { start, items: Int32Array.from(args.flatMap(pick)) };
  };
  s.arguments = {
    key: Int32Array.from(args, (a) => a.key),
    constants: rows((a) => a.constants),
    params: rows((a) => a.params),
    unknown: Uint8Array.from(args, (a) => (a.unknown ? 1 : 0)),
  };
  return s;
}

const sample = (): ObjectSummary => build(fc.sample(objectParts, { numRuns: 1, seed: 42 })[0]!);

describe("summary codec", () => {
  it("gives back every summary unchanged (property)", () => {
    fc.assert(
      fc.property(objectParts, (parts) => {
        const s = build(parts);
        expect(summaryConsistent(s)).toBe(true);
        const back = decodeSummary(encodeSummary(s));
        expect(back).toEqual(s);
      }),
      { numRuns: 300 },
    );
  });

  it("decodes from a buffer that does not start at an 8-byte boundary", () => {
    const s = sample();
    const bytes = encodeSummary(s);
    const shifted = new Uint8Array(bytes.length + 3).subarray(3);
    shifted.set(bytes);
    expect(decodeSummary(shifted)).toEqual(s);
  });

  it("refuses bytes cut short at any length (property)", () => {
    const bytes = encodeSummary(sample());
    expect(decodeSummary(bytes)).toBeDefined();
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), (n) => {
        expect(decodeSummary(bytes.subarray(0, n))).toBeUndefined();
      }),
    );
  });

  it("refuses bytes with any one byte changed (property)", () => {
    const bytes = encodeSummary(sample());
    expect(decodeSummary(bytes)).toBeDefined();
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const damaged = Buffer.from(bytes);
        damaged[at]! ^= x;
        expect(decodeSummary(damaged)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it("refuses another format version or another analysis version", () => {
    const bytes = encodeSummary(sample());
    expect(decodeSummary(bytes)).toBeDefined();
    for (const [at, value] of [
      [8, FORMAT_VERSION + 1],
      [12, SUMMARY_VERSION - 1],
    ] as const) {
      const other = Buffer.from(bytes);
      other.writeUInt32LE(value, at);
      expect(decodeSummary(other)).toBeUndefined();
    }
  });

  it("refuses bytes with a valid checksum whose fields do not make a summary", () => {
    const bytes = encodeSummary(sample());
    const fields = bytes.readUInt32LE(24);
    const body = HEADER_BYTES + fields * 8; // the first field, after the directory
    const resealed = (change: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(bytes);
      change(b);
      b.writeUInt32LE(crc32(b.subarray(HEADER_BYTES)), 20);
      return b;
    };
    // The number of strings (the second scalar), and the type of the functions' first-site list (u32 -> i32).
    expect(decodeSummary(resealed((b) => b.writeDoubleLE(b.readDoubleLE(body + 8) + 1, body + 8)))).toBeUndefined();
    expect(decodeSummary(resealed((b) => b.writeUInt32LE(1, HEADER_BYTES + 6 * 8)))).toBeUndefined();
    expect(decodeSummary(resealed(() => {}))).toBeDefined();
  });

  it("checks a summary's shape on load and its consistency before writing it", () => {
    const s = sample();
    expect(summaryShapeOk({ ...s, functions: { ...s.functions, end: s.functions.end.subarray(1) } })).toBe(false);
    expect(() => encodeSummary({ ...s, roots: Int32Array.of(s.functions.count) })).toThrow(CorruptSummary);
  });
});
