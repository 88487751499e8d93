import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SuffixAutomaton } from "./suffixAutomaton.js";

const u16 = (xs: readonly number[]): Uint16Array => Uint16Array.from(xs);

/** The reference: every factor of every trace, as text keys. */
function factorSet(traces: readonly Uint16Array[]): Set<string> {
  const set = new Set<string>([""]);
  for (const t of traces) {
    for (let i = 0; i < t.length; i++) for (let j = i + 1; j <= t.length; j++) set.add(t.subarray(i, j).join(","));
  }
  return set;
}

const traceArb = (alphabet: number, max: number): fc.Arbitrary<Uint16Array> =>
  fc.array(fc.integer({ min: 0, max: alphabet - 1 }), { maxLength: max }).map(u16);

describe("suffix automaton", () => {
  it("accepts the factors of one text and nothing else (abcbc)", () => {
    const sam = new SuffixAutomaton();
    sam.addTrace(u16([0, 1, 2, 1, 2]));
    for (const f of [[], [0], [1, 2, 1], [2, 1, 2], [0, 1, 2, 1, 2]]) expect(sam.isFactor(u16(f)), `${f}`).toBe(true);
    for (const f of [
      [1, 0],
      [2, 2],
      [0, 2],
      [0, 1, 2, 1, 2, 1],
    ])
      expect(sam.isFactor(u16(f)), `${f}`).toBe(false);
    // Blumer et al.'s bounds for a text of n >= 3 calls: 2n - 1 states, 3n - 4 transitions.
    expect(sam.states).toBeLessThanOrEqual(2 * 5 - 1);
    expect(sam.transitions).toBeLessThanOrEqual(3 * 5 - 4);
  });

  it("keeps traces apart: no factor spans the end of one trace and the start of the next", () => {
    const sam = new SuffixAutomaton();
    sam.addTrace(u16([0, 1, 2]));
    sam.addTrace(u16([3, 4]));
    expect(sam.isFactor(u16([1, 2]))).toBe(true);
    expect(sam.isFactor(u16([3, 4]))).toBe(true);
    expect(sam.isFactor(u16([2, 3]))).toBe(false);
    expect(sam.isFactor(u16([4, 0]))).toBe(false);
  });

  it("accepts exactly the factors of random trace sets, in at most 2n states (property)", () => {
    fc.assert(
      fc.property(
        fc.array(traceArb(4, 30), { maxLength: 6 }),
        fc.array(traceArb(4, 8), { maxLength: 40 }),
        (set, probes) => {
          const sam = new SuffixAutomaton();
          for (const t of set) sam.addTrace(t);
          const ref = factorSet(set);
          for (const f of ref) {
            if (!sam.isFactor(u16(f === "" ? [] : f.split(",").map(Number)))) return false;
          }
          for (const p of probes) if (sam.isFactor(p) !== ref.has(p.join(","))) return false;
          const n = set.reduce((s, t) => s + t.length, 0);
          return sam.states <= Math.max(1, 2 * n) && sam.transitions <= Math.max(0, 3 * n);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it("extends several traces in turn as well as one after the other (interleaved learners)", () => {
    fc.assert(
      fc.property(traceArb(3, 40), traceArb(3, 40), fc.array(fc.boolean(), { maxLength: 80 }), (a, b, order) => {
        const sam = new SuffixAutomaton();
        let la = 0;
        let lb = 0;
        let i = 0;
        let j = 0;
        for (const takeA of order) {
          if (takeA && i < a.length) la = sam.extend(la, a[i++]!);
          else if (j < b.length) lb = sam.extend(lb, b[j++]!);
        }
        while (i < a.length) la = sam.extend(la, a[i++]!);
        while (j < b.length) lb = sam.extend(lb, b[j++]!);
        const ref = factorSet([a, b]);
        for (const f of ref) if (!sam.isFactor(u16(f === "" ? [] : f.split(",").map(Number)))) return false;
        // Strings of length 2..4 over the alphabet: accepted exactly when they are factors.
        for (let x = 0; x < 81; x++) {
          const probe = u16([x % 3, Math.floor(x / 3) % 3, Math.floor(x / 9) % 3, Math.floor(x / 27) % 3]);
          for (const len of [2, 3, 4]) {
            const p = probe.subarray(0, len);
            if (sam.isFactor(p) !== ref.has(p.join(","))) return false;
          }
        }
        return true;
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it("reads the same transitions from its scoring layout as from its hash, rebuilt after insertions", () => {
    const sam = new SuffixAutomaton();
    const check = (): void => {
      sam.prepare();
      for (let s = 0; s < sam.states; s++) for (let c = 0; c < 6; c++) expect(sam.go(s, c)).toBe(sam.next(s, c));
    };
    sam.addTrace(u16([0, 1, 2, 1, 2, 3]));
    check();
    sam.addTrace(u16([2, 1, 0, 4, 5, 1, 2]));
    check();
    expect(sam.go(-1, 0)).toBe(-1);
  });

  it("grows past its initial tables and keeps every transition", () => {
    const sam = new SuffixAutomaton();
    const t = new Uint16Array(5000);
    let x = 1;
    for (let i = 0; i < t.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      t[i] = (x >>> 16) % 300;
    }
    sam.addTrace(t);
    expect(sam.isFactor(t)).toBe(true);
    for (let i = 0; i + 50 <= t.length; i += 97) expect(sam.isFactor(t.subarray(i, i + 50))).toBe(true);
    expect(sam.states).toBeLessThanOrEqual(2 * t.length - 1);
    expect(sam.memoryBytes()).toBeGreaterThan(0);
  });
});
