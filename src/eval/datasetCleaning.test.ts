import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Label, SourceInfo } from "../ingest/event.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { shortTraceName } from "./datasetCleaning.js";
import { DatasetScan } from "./datasetScan.js";

interface Planted {
  path: string;
  split: string;
  label: Label;
  attackType?: string;
  calls: number[];
}

function scan(traces: readonly Planted[], window = 4): DatasetScan {
  const vocab = new Vocabulary();
  const s = new DatasetScan(vocab, { window, profile: true });
  for (const t of traces) {
    const source: SourceInfo = { path: t.path, format: "adfa", split: t.split, label: t.label };
    if (t.attackType !== undefined) source.attackType = t.attackType;
    s.beginSource(source);
    for (const c of t.calls) s.call(0, vocab.intern(`call${c}`), Number.NaN, Number.NaN, undefined);
    s.endSource();
  }
  return s;
}

/** The facts computed the slow way, from the calls as strings. */
function naive(traces: readonly Planted[], window: number) {
  const key = (t: Planted): string => t.calls.join(",");
  const nonEmpty = traces.filter((t) => t.calls.length > 0);
  const splits = [...new Set(traces.map((t) => t.split))];
  const dupes = (ts: Planted[]): number =>
    ts.filter((t) => t.calls.length > 0).length - new Set(ts.filter((t) => t.calls.length > 0).map(key)).size;
  const bySplit = Object.fromEntries(splits.map((s) => [s, dupes(traces.filter((t) => t.split === s))]));
  const pairs: Record<string, number> = {};
  for (const a of splits)
    for (const b of splits) {
      if (a === b) continue;
      const inA = new Set(nonEmpty.filter((t) => t.split === a).map(key));
      pairs[`${a}|${b}`] = nonEmpty.filter((t) => t.split === b && inA.has(key(t))).length;
    }
  const labelsOf = new Map<string, Set<string>>();
  for (const t of nonEmpty) labelsOf.set(key(t), (labelsOf.get(key(t)) ?? new Set()).add(t.label));
  const conflicting = nonEmpty.filter((t) => labelsOf.get(key(t))!.size > 1);
  return {
    bySplit,
    pairs,
    conflictSequences: new Set(conflicting.map(key)).size,
    conflictTraces: conflicting.length,
    empty: traces.filter((t) => t.calls.length === 0).length,
    one: traces.filter((t) => new Set(t.calls).size === 1).length,
    short: traces.filter((t) => t.calls.length > 0 && t.calls.length < window).length,
  };
}

const plantedTrace = fc.record({
  split: fc.constantFrom("training", "validation", "attack"),
  calls: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 5 }),
  attackType: fc.constantFrom("A", "B"),
});

describe("DatasetScan cleaning facts", () => {
  it("agree with a naive count on random data sets", () => {
    fc.assert(
      fc.property(fc.array(plantedTrace, { maxLength: 40 }), (raw) => {
        const traces: Planted[] = raw.map((r, i) => ({
          path: `/d/t${i}`,
          split: r.split,
          label: r.split === "attack" ? "attack" : "normal",
          ...(r.split === "attack" ? { attackType: r.attackType } : {}),
          calls: r.calls,
        }));
        const facts = scan(traces).facts();
        const want = naive(traces, 4);
        for (const g of facts.groups.filter((x) => x.kind === "split")) expect(g.duplicates).toBe(want.bySplit[g.name]);
        for (const p of facts.splits) {
          expect(p.secondInFirst).toBe(want.pairs[`${p.first}|${p.second}`]);
          expect(p.firstInSecond).toBe(want.pairs[`${p.second}|${p.first}`]);
          expect(p.traces.length).toBe(p.secondInFirst);
        }
        expect(facts.conflicts.sequences).toBe(want.conflictSequences);
        expect(facts.conflicts.traces).toBe(want.conflictTraces);
        expect(facts.degenerate.empty.count).toBe(want.empty);
        expect(facts.degenerate.oneDistinctCall.count).toBe(want.one);
        expect(facts.degenerate.shorterThanWindow.count).toBe(want.short);
        expect(facts.traces).toBe(traces.length);
      }),
    );
  });

  it("name the planted duplicates, cross-split copies and label conflicts", () => {
    const t = (path: string, split: string, calls: number[], attackType?: string): Planted => ({
      path,
      split,
      label: split === "attack" ? "attack" : "normal",
      ...(attackType !== undefined ? { attackType } : {}),
      calls,
    });
    const traces = [
      t("tr1", "training", [1, 2, 3, 4, 5]),
      t("tr2", "training", [1, 2, 3, 4, 5]), // duplicate within training
      t("tr3", "training", [5, 4, 3, 2, 1]),
      t("va1", "validation", [5, 4, 3, 2, 1]), // copy of a training trace
      t("va2", "validation", [7, 7, 7, 7, 7]), // one distinct call
      t("va3", "validation", [6, 6, 1, 2, 3, 9]),
      t("va4", "validation", []), // empty
      t("at1", "attack", [6, 6, 1, 2, 3, 9], "Web_Shell"), // identical to a normal trace: a label conflict
      t("at2", "attack", [1, 2], "Web_Shell"), // shorter than the window
    ];
    const facts = scan(traces).facts();
    const split = (name: string) => facts.groups.find((g) => g.kind === "split" && g.name === name)!;
    expect(split("training")).toMatchObject({ traces: 3, distinct: 2, duplicates: 1, sets: [["tr1", "tr2"]] });
    expect(split("validation")).toMatchObject({ traces: 4, distinct: 3, duplicates: 0 });
    expect(facts.groups.find((g) => g.kind === "attackType")).toMatchObject({ name: "Web_Shell", traces: 2 });
    expect(facts.splits.map((s) => [s.first, s.second, s.sequences, s.traces])).toEqual([
      ["training", "validation", 1, ["va1"]],
      ["training", "attack", 0, []],
      ["validation", "attack", 1, ["at1"]],
    ]);
    expect(facts.conflicts).toEqual({
      sequences: 1,
      traces: 2,
      sets: [{ labels: ["attack", "normal"], traces: ["va3", "at1"] }],
    });
    expect(facts.degenerate.empty.traces).toEqual(["va4"]);
    expect(facts.degenerate.oneDistinctCall.traces).toEqual(["va2"]);
    expect(facts.degenerate.shorterThanWindow.traces).toEqual(["at2"]);
    expect(facts.distinct).toBe(5);
  });

  it("shows names relative to the input they were found in", () => {
    expect(shortTraceName("/d/adfa/Training/UTD-1.txt", ["/d/adfa"])).toBe("Training/UTD-1.txt");
    expect(shortTraceName("/d/adfa/x.txt", ["/d/adfa/"])).toBe("x.txt");
    expect(shortTraceName("a.tar.gz:Training/UTD-1.txt", ["a.tar.gz"])).toBe("Training/UTD-1.txt");
    expect(shortTraceName("/e/x.txt", ["/d"])).toBe("/e/x.txt");
  });
});
