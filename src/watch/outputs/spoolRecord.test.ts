import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeSpoolHeader,
  encodeSpoolRecord,
  parseSpoolHeader,
  parseSpoolRecords,
  spoolRecordText,
} from "./spoolRecord.js";

/** Payloads as alerts are: JSON, so any text without a raw newline. */
const payload = fc.string({ unit: "binary", maxLength: 300 }).map((s) => JSON.stringify(s));

const encodeAll = (xs: string[]) => Buffer.concat(xs.map((x) => encodeSpoolRecord(x)));

describe("spool record format", () => {
  it("parses what it encodes, in order, with the offsets of each record", () => {
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 30 }), fc.nat(1000), (xs, base) => {
        const data = encodeAll(xs);
        const r = parseSpoolRecords(data, base);
        expect(r.records.map((e) => e.payload)).toEqual(xs);
        expect(r).toMatchObject({ validEnd: base + data.length, damaged: 0, torn: false });
        let at = base;
        for (const e of r.records) {
          expect(e.offset).toBe(at);
          at = e.end;
        }
      }),
    );
  });

  it("a cut anywhere gives a prefix of the records, and a torn tail that ends where the whole ones do", () => {
    fc.assert(
      fc.property(fc.array(payload, { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 1 }), (xs, f) => {
        const data = encodeAll(xs);
        const cut = Math.floor(f * data.length);
        const r = parseSpoolRecords(data.subarray(0, cut));
        expect(xs.slice(0, r.records.length)).toEqual(r.records.map((e) => e.payload));
        expect(r.damaged).toBe(0);
        expect(r.validEnd).toBe(r.records.at(-1)?.end ?? 0);
        expect(r.torn).toBe(r.validEnd < cut);
      }),
    );
  });

  it("a damaged byte loses at most the record it is in; the others are kept", () => {
    fc.assert(
      fc.property(
        fc.array(payload, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (xs, i, x) => {
          const data = encodeAll(xs);
          const at = i % data.length;
          data[at] = data[at]! ^ x;
          const r = parseSpoolRecords(data);
          const kept = r.records.map((e) => e.payload);
          // Every record kept is one of the originals, in order, and at most two are lost (a newline damaged joins two).
          expect(kept.length).toBeGreaterThanOrEqual(xs.length - 2);
          let j = 0;
          for (const k of kept) {
            while (j < xs.length && xs[j] !== k) j++;
            expect(j).toBeLessThan(xs.length);
            j++;
          }
        },
      ),
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = parseSpoolRecords(bytes);
        expect(r.validEnd).toBeLessThanOrEqual(bytes.length);
        parseSpoolHeader(bytes);
      }),
    );
  });

  it("reads its header's generation, and refuses anything else as a header", () => {
    expect(parseSpoolHeader(encodeSpoolHeader(42))).toEqual({ generation: 42, length: encodeSpoolHeader(42).length });
    expect(parseSpoolHeader(Buffer.from("homeostat-spool 2 1\n"))).toBeUndefined();
    expect(parseSpoolHeader(Buffer.from("12 00000000 x\n"))).toBeUndefined();
  });

  it("the text encoding appended in batches is the same bytes as the record encoding", () => {
    fc.assert(
      fc.property(payload, (x) => {
        const t = spoolRecordText(x);
        const bytes = Buffer.from(t.text, "utf8");
        expect(bytes.equals(encodeSpoolRecord(x))).toBe(true);
        expect(t.bytes).toBe(bytes.length);
      }),
    );
  });

  it("refuses a payload with a newline", () => {
    expect(() => encodeSpoolRecord("a\nb")).toThrow(RangeError);
  });
});
