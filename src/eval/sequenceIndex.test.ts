import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashCalls } from "./sequenceHash.js";
import { SequenceIndex } from "./sequenceIndex.js";

/** Short sequences over a tiny alphabet, so that equal ones are frequent. */
const sequences = fc.array(
  fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 }).map((a) => Uint16Array.from(a)),
  { maxLength: 60 },
);

function key(a: Uint16Array): string {
  return Array.from(a).join(",");
}

describe("hashCalls", () => {
  it("depends on the calls and their order, and on nothing else", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 65_535 }), { maxLength: 50 }), (xs) => {
        const a = new Uint32Array(2);
        const b = new Uint32Array(2);
        const calls = Uint16Array.from(xs);
        hashCalls(calls, a);
        const padded = new Uint16Array(calls.length + 4);
        padded.set(calls, 2);
        hashCalls(padded, b, 2, 2 + calls.length);
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
    );
    const h = (xs: number[]): string => {
      const out = new Uint32Array(2);
      hashCalls(Uint16Array.from(xs), out);
      return Array.from(out).join(":");
    };
    expect(h([1, 2])).not.toBe(h([2, 1]));
    expect(h([])).not.toBe(h([0]));
    expect(h([0])).not.toBe(h([0, 0]));
  });
});

describe("SequenceIndex", () => {
  for (const [what, hash] of [
    ["the default hash", undefined],
    ["a hash where everything collides", (_calls: Uint16Array, out: Uint32Array) => out.fill(7)],
    ["a hash of the first call only", (calls: Uint16Array, out: Uint32Array) => out.fill(calls[0] ?? 0)],
  ] as const) {
    it(`gives equal ids exactly to equal sequences, with ${what}`, () => {
      fc.assert(
        fc.property(sequences, (seqs) => {
          const index = new SequenceIndex(hash !== undefined ? { hash } : {});
          const firstId = new Map<string, number>();
          for (const s of seqs) {
            const id = index.add(s);
            const k = key(s);
            if (!firstId.has(k)) {
              expect(id).toBe(firstId.size);
              firstId.set(k, id);
            } else expect(id).toBe(firstId.get(k));
            expect(index.find(s.slice())).toBe(id);
          }
          expect(index.size).toBe(firstId.size);
          expect(index.unconfirmed).toBe(0);
          if (hash === undefined) expect(index.collisions).toBe(0);
        }),
      );
    });
  }

  it("counts collisions it resolved by comparing the calls", () => {
    const index = new SequenceIndex({ hash: (_c, out) => out.fill(1) });
    expect(index.add(Uint16Array.of(1, 2))).toBe(0);
    expect(index.add(Uint16Array.of(2, 1))).toBe(1);
    expect(index.collisions).toBe(1);
    expect(index.find(Uint16Array.of(3, 3))).toBe(-1);
  });

  it("past its budget, matches on the hash alone and says so", () => {
    const index = new SequenceIndex({ maxHeldCalls: 3 });
    expect(index.add(Uint16Array.of(1, 2, 3))).toBe(0);
    expect(index.add(Uint16Array.of(4, 5))).toBe(1); // not held: 5 calls > 3
    expect(index.heldCalls).toBe(3);
    expect(index.add(Uint16Array.of(4, 5))).toBe(1);
    expect(index.unconfirmed).toBe(1);
    expect(index.add(Uint16Array.of(1, 2, 3))).toBe(0);
    expect(index.unconfirmed).toBe(1);
  });

  it("grows past its first table and record sizes", () => {
    const index = new SequenceIndex();
    for (let i = 0; i < 5000; i++) expect(index.add(Uint16Array.of(i & 0xffff, i >> 16, 9))).toBe(i);
    for (let i = 0; i < 5000; i++) expect(index.find(Uint16Array.of(i & 0xffff, i >> 16, 9))).toBe(i);
  });
});
