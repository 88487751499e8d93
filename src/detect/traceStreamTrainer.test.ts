import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { SourceInfo } from "../ingest/event.js";
import { readTraces } from "../ingest/reader.js";
import { StreamChunker } from "../ingest/streamChunker.js";
import { TraceCollector } from "../ingest/traceCollector.js";
import { createDetector } from "../models/registry.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { canTrainStreaming, TraceStreamTrainer } from "./traceStreamTrainer.js";

const NAMES = ["read", "write", "openat", "close", "mmap", "brk", "fstat", "futex"];
const dir = mkdtempSync(path.join(tmpdir(), "homeostat-stream-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function straceText(calls: readonly [number, number][]): string {
  return calls.map(([pid, c]) => `${1000 + pid} ${NAMES[c]}(0) = 0\n`).join("");
}

/** Sources whose name ends in 1 are left out, as attack traces are. */
const keep = (s: SourceInfo): boolean => !s.path.endsWith("-1.strace");

async function batchProfile(kind: string, options: Record<string, number>, files: string[]): Promise<Uint8Array> {
  const collector = new TraceCollector();
  await readTraces(files, { vocab: new Vocabulary(NAMES), sink: collector, format: "strace" });
  const d = createDetector(kind, options);
  d.train(collector.traces.filter((t) => keep(t.source)).map((t) => t.calls));
  return d.serialize();
}

async function streamProfile(
  kind: string,
  options: Record<string, number>,
  files: string[],
  budgets: { holdCalls: number; chunkCalls: number; batchCalls: number },
): Promise<{ bytes: Uint8Array; traces: number }> {
  const d = createDetector(kind, options);
  if (!canTrainStreaming(d)) throw new Error(`${kind} cannot learn call by call`);
  const trainer = new TraceStreamTrainer(d, keep, budgets.batchCalls);
  await readTraces(files, {
    vocab: new Vocabulary(NAMES),
    sink: new StreamChunker(trainer, budgets),
    format: "strace",
  });
  trainer.finish();
  return { bytes: d.serialize(), traces: trainer.traces };
}

/**
 * One source's calls as (pid, call) pairs. Each source draws from its own first `cap + 1` calls, so that the largest
 * id grows from source to source, and within a long one, as in real data (the table is re-keyed as it grows).
 */
const source = (maxPid: number): fc.Arbitrary<[number, number][]> =>
  fc.integer({ min: 0, max: NAMES.length - 1 }).chain((cap) =>
    fc.array(fc.tuple(fc.integer({ min: 0, max: maxPid }), fc.integer({ min: 0, max: cap })), {
      maxLength: 900,
      size: "max",
    }),
  );

describe("TraceStreamTrainer", () => {
  // n-gram tables keep insertion order, so its profile is the same only when no source interleaves streams; the
  // window and pair models are sets and counts, stored sorted.
  const models: [string, Record<string, number>, number][] = [
    ["stide", { k: 3 }, 3],
    ["stide", { k: 20 }, 3], // hashed keys (20 calls of 4 bits do not fit 64)
    ["tstide", { k: 4, threshold: 0.01 }, 3],
    ["lookahead", { L: 5 }, 3],
    ["ngram", { n: 3 }, 0],
  ];
  for (const [kind, options, maxPid] of models) {
    it(`property: ${kind} ${JSON.stringify(options)} learnt while reading equals training on whole traces`, async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(source(maxPid), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 1, max: 2000 }),
          fc.integer({ min: 1, max: 300 }),
          fc.integer({ min: 1, max: 3000 }),
          async (sources, holdCalls, chunkCalls, batchCalls) => {
            const files = sources.map((calls, i) => {
              const f = path.join(dir, `${kind}-${round}-${i}.strace`);
              writeFileSync(f, calls.length === 0 ? "1000 read(0) = 0\n" : straceText(calls));
              return f;
            });
            round++;
            const want = await batchProfile(kind, options, files);
            const got = await streamProfile(kind, options, files, { holdCalls, chunkCalls, batchCalls });
            expect(Buffer.from(got.bytes).equals(Buffer.from(want))).toBe(true);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("counts attack traces without learning them, and learns nothing it was not given", () => {
    const d = createDetector("stide", { k: 2 });
    if (!canTrainStreaming(d)) throw new Error("stide learns call by call");
    const trainer = new TraceStreamTrainer(d, (s) => s.label !== "attack");
    const chunker = new StreamChunker(trainer, { holdCalls: 256, chunkCalls: 4 });
    const feed = (label: SourceInfo["label"], streams: number[], n: number): void => {
      chunker.beginSource({ path: `x-${label}`, format: "unm", ...(label !== undefined ? { label } : {}) });
      for (let i = 0; i < n; i++) for (const s of streams) chunker.call(s, i % 3, Number.NaN, Number.NaN, undefined);
      chunker.endSource();
    };
    feed("attack", [1, 2], 1000); // long enough to be opened
    feed("attack", [3], 5);
    feed("normal", [1], 10);
    trainer.finish();
    expect([trainer.traces, trainer.attackTraces]).toEqual([1, 3]);
    expect([d.trainedTraces, d.trainedCalls]).toEqual([1, 10]);
  });

  it("hmm, which needs whole traces, offers no learner", () => {
    expect(canTrainStreaming(createDetector("hmm"))).toBe(false);
    for (const kind of ["stide", "tstide", "lookahead", "ngram"])
      expect(canTrainStreaming(createDetector(kind))).toBe(true);
  });
});
