import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayloadReader, PayloadWriter } from "./payload.js";
import { WindowTable } from "./windowTable.js";

/** A stored window list as `write` lays it out, whatever its contents (so possibly not canonical). */
interface StoredList {
  k: number;
  maxId: number;
  total: number;
  windows: number[];
  counts: number[];
}

function payload(list: StoredList, counted: boolean): Uint8Array {
  const n = list.windows.length / list.k;
  const w = new PayloadWriter().u16(list.k).i32(list.maxId).u32(n).f64(list.total);
  w.u16s(Uint16Array.from(list.windows));
  if (counted) w.u32s(Uint32Array.from(list.counts));
  return w.finish();
}

/** The first check a stored list fails, in the order `read` checks (null when it is canonical). */
function firstFailure(list: StoredList, counted: boolean): string | null {
  const { k, maxId, total, windows } = list;
  const n = windows.length / k;
  const counts = counted ? list.counts : windows.slice(0, n).map(() => 1);
  let sum = 0;
  let seenMax = -1;
  for (let i = 0; i < n; i++) {
    if (counts[i] === 0) return `window ${i} has count 0`;
    sum += counts[i]!;
    for (let j = 0; j < k; j++) seenMax = Math.max(seenMax, windows[i * k + j]!);
    if (i > 0) {
      let d = 0;
      for (let j = 0; j < k && d === 0; j++) d = windows[i * k + j]! - windows[(i - 1) * k + j]!;
      if (d <= 0) return `windows are not strictly sorted at ${i}`;
    }
  }
  if (seenMax !== maxId) return `largest id is ${seenMax}, header says ${maxId}`;
  if (counted ? sum !== total : total < n) return `window total ${total} does not match the counts`;
  return null;
}

function trained(traces: number[][], k: number, counted: boolean, forceHashed: boolean): WindowTable {
  const t = new WindowTable(k, counted, { forceHashed });
  t.addTraces(traces.map((x) => Uint16Array.from(x)));
  return t;
}

function stored(t: WindowTable): StoredList {
  const w = new PayloadWriter();
  t.write(w);
  const r = new PayloadReader(w.finish(), "test");
  const k = r.u16();
  const maxId = r.i32();
  const n = r.u32();
  const total = r.f64();
  return { k, maxId, total, windows: [...r.u16s(n * k)], counts: t.counted ? [...r.u32s(n)] : [] };
}

const traceArb = fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }), { maxLength: 6 });
const modeArb = fc.record({ k: fc.integer({ min: 2, max: 5 }), counted: fc.boolean(), forceHashed: fc.boolean() });

describe("WindowTable.read", () => {
  it("reads back what write wrote, in packed and hashed mode", () => {
    fc.assert(
      fc.property(traceArb, modeArb, (traces, { k, counted, forceHashed }) => {
        const t = trained(traces, k, counted, forceHashed);
        const list = stored(t);
        const back = new WindowTable(k, counted, { forceHashed });
        back.read(new PayloadReader(payload(list, counted), "test"));
        expect(stored(back)).toEqual(list);
        expect(back.size).toBe(t.size);
        expect(back.total).toBe(t.total);
      }),
    );
  });

  it("rejects a damaged list with the first failure of the checks, in order", () => {
    fc.assert(
      fc.property(
        traceArb,
        modeArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 70 })), { minLength: 1, maxLength: 3 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }))),
        fc.option(fc.integer({ min: -1, max: 70 })),
        (traces, { k, counted, forceHashed }, edits, countEdit, headerMax) => {
          const list = stored(trained(traces, k, counted, forceHashed));
          if (list.windows.length === 0) return;
          for (const [at, id] of edits) list.windows[at % list.windows.length] = id;
          if (counted && countEdit !== null) list.counts[countEdit[0] % list.counts.length] = countEdit[1];
          if (headerMax !== null && headerMax >= 0) list.maxId = headerMax;
          const want = firstFailure(list, counted);
          const read = () =>
            new WindowTable(k, counted, { forceHashed }).read(new PayloadReader(payload(list, counted), "test"));
          if (want === null) read();
          else expect(read).toThrowError(want);
        },
      ),
      { numRuns: 500 },
    );
  });
});
