import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { readTraces } from "../ingest/reader.js";
import { StreamChunker } from "../ingest/streamChunker.js";
import { TraceCollector, traceName } from "../ingest/traceCollector.js";
import type { Detector } from "../models/detector.js";
import { createDetector } from "../models/registry.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { scoreTrace, type TraceSummary } from "./traceScore.js";
import { type ScoredTrace, scoredTraceName, TraceStreamScorer } from "./traceStreamScorer.js";

/** Traces scored call by call and traces scored whole, over a property's runs: both paths must have been taken. */
const paths = { opened: 0, whole: 0 };

const NAMES = ["read", "write", "openat", "close", "mmap", "brk", "fstat", "futex"];
const dir = mkdtempSync(path.join(tmpdir(), "homeostat-stream-score-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** strace -f text: one line per call, `PID name(0) = 0`, streams interleaved as generated. */
function straceText(calls: readonly [number, number][]): string {
  return calls.map(([pid, c]) => `${1000 + pid} ${NAMES[c]}(0) = 0\n`).join("");
}

function trained(kind: string, options: Record<string, number>): Detector {
  const d = createDetector(kind, options);
  const normal = new Uint16Array(400);
  for (let i = 0; i < normal.length; i++) normal[i] = [0, 1, 2, 3, 0, 1, 4][i % 7]!;
  d.train([normal]);
  return d;
}

async function batchScores(files: string[], detector: Detector, hamming: boolean): Promise<[string, TraceSummary][]> {
  const out: [string, TraceSummary][] = [];
  const collector = new TraceCollector({
    onTrace: (t) => out.push([traceName(t), scoreTrace(detector, t.calls, { frame: 5, hamming })]),
  });
  await readTraces(files, { vocab: new Vocabulary(NAMES), sink: collector, format: "strace" });
  return out;
}

async function streamScores(
  files: string[],
  detector: Detector,
  hamming: boolean,
  budgets: { holdCalls: number; chunkCalls: number },
): Promise<[string, TraceSummary][]> {
  const out: [string, TraceSummary][] = [];
  const scorer = new TraceStreamScorer(detector, { frame: 5, hamming }, (t: ScoredTrace) =>
    out.push([scoredTraceName(t), t.summary]),
  );
  const open = scorer.open.bind(scorer);
  scorer.open = (stream) => {
    paths.opened++;
    return open(stream);
  };
  const whole = scorer.whole.bind(scorer);
  scorer.whole = (stream, calls, multi) => {
    paths.whole++;
    whole(stream, calls, multi);
  };
  await readTraces(files, { vocab: new Vocabulary(NAMES), sink: new StreamChunker(scorer, budgets), format: "strace" });
  return out;
}

const source = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: NAMES.length - 1 })), {
  minLength: 1,
  maxLength: 1200,
  size: "max",
});

describe("TraceStreamScorer", () => {
  const models: [string, Record<string, number>, boolean][] = [
    ["stide", { k: 3 }, true],
    ["tstide", { k: 3, threshold: 0.01 }, false],
    ["lookahead", { L: 4 }, false],
    ["ngram", { n: 3 }, false],
    ["hmm", { states: 3, iterations: 2 }, false],
  ];
  for (const [kind, options, hamming] of models) {
    it(`property: ${kind} scores parsed multi-stream traces as batch scoring does, whatever the budgets`, async () => {
      const detector = trained(kind, options);
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(source, { minLength: 1, maxLength: 3 }),
          fc.integer({ min: 1, max: 2000 }),
          fc.integer({ min: 1, max: 300 }),
          async (sources, holdCalls, chunkCalls) => {
            const files = sources.map((calls, i) => {
              const f = path.join(dir, `${kind}-${round}-${i}.strace`);
              writeFileSync(f, straceText(calls));
              return f;
            });
            round++;
            const want = await batchScores(files, detector, hamming);
            const got = await streamScores(files, detector, hamming, { holdCalls, chunkCalls });
            expect(got).toEqual(want);
          },
        ),
        { numRuns: 25 },
      );
      expect(paths.opened).toBeGreaterThan(0);
      expect(paths.whole).toBeGreaterThan(0);
    });
  }
});
