// One pass over a data set for `homeostat inspect`: an event sink that cuts the events into traces (one per source
// and stream), indexes each trace's call sequence (sequenceIndex.ts) for the cleaning facts, and, when a report is
// asked for, feeds the category-bigram frequencies and per-label distributions. Only one source's calls are held at
// a time, plus one copy of each distinct sequence (bounded by maxHeldCalls).

import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import { type Trace, TraceCollector, traceName } from "../ingest/traceCollector.js";
import { CATEGORY_COUNT, categoryLookup } from "../syscalls/categories.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import { CategoryBigrams, type KsSide } from "./categoryBigrams.js";
import { type CleaningFacts, cleaningFacts, type CleaningTrace } from "./datasetCleaning.js";
import { categoryNames, type DatasetProfile, profileHeatmaps } from "./datasetProfile.js";
import { LabelDistributions } from "./labelDistributions.js";
import { SequenceIndex } from "./sequenceIndex.js";

export interface DatasetScanOptions {
  /** The window length of "shorter than a window". */
  window: number;
  /** Most distinct calls held to confirm duplicates (default: no limit). */
  maxHeldCalls?: number;
  /** Also gather what the report draws (bigram heatmaps, distributions). */
  profile?: boolean;
}

export class DatasetScan implements EventSink {
  readonly traces: CleaningTrace[] = [];
  private readonly collector: TraceCollector;
  private readonly index: SequenceIndex;
  private readonly stamps = new Uint32Array(65_536);
  private stamp = 0;
  private source: SourceInfo | undefined;
  private sourceCalls = 0;
  private readonly bigrams: CategoryBigrams | undefined;
  private readonly labels: LabelDistributions | undefined;
  private lut: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly vocab: Vocabulary,
    private readonly options: DatasetScanOptions,
  ) {
    this.collector = new TraceCollector({ onTrace: (t) => this.addTrace(t) });
    this.index = new SequenceIndex(options.maxHeldCalls !== undefined ? { maxHeldCalls: options.maxHeldCalls } : {});
    if (options.profile === true) {
      this.bigrams = new CategoryBigrams(CATEGORY_COUNT);
      this.labels = new LabelDistributions();
    }
  }

  beginSource(source: SourceInfo): void {
    this.source = source;
    this.sourceCalls = 0;
    this.collector.beginSource(source);
  }

  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    this.sourceCalls++;
    this.collector.call(stream, syscall, time, ret, args);
  }

  note(stream: number, note: StreamNote): void {
    this.collector.note(stream, note);
  }

  endSource(): void {
    this.collector.endSource();
    const source = this.source;
    if (source !== undefined && this.sourceCalls === 0) this.traces.push(this.entry(source, source.path, 0, 0, -1));
    this.source = undefined;
  }

  /** Records a source read as empty elsewhere (e.g. a zero-byte file the reader skipped). */
  addEmpty(path: string): void {
    this.traces.push({ name: path, label: "unlabelled", calls: 0, distinct: 0, sequence: -1 });
  }

  facts(): CleaningFacts {
    return cleaningFacts(this.traces, this.options.window, this.index);
  }

  /** The report's data (empty heatmaps and distributions unless the scan was made with `profile`). */
  profile(inputs: string[], top: number): DatasetProfile {
    const labels = this.labels ?? new LabelDistributions();
    const bigrams = this.bigrams ?? new CategoryBigrams(CATEGORY_COUNT);
    return {
      inputs,
      traces: this.traces.length,
      syscalls: this.traces.reduce((n, t) => n + t.calls, 0),
      categories: categoryNames(),
      heatmaps: profileHeatmaps(bigrams),
      separation: bigrams.sides.normal > 0 && bigrams.sides.attack > 0 ? bigrams.separation() : [],
      sides: bigrams.sides,
      lengths: labels.lengthHistogram(),
      distinct: labels.distinctHistogram(),
      topSyscalls: labels.topSyscalls(this.vocab, top),
      cleaning: this.facts(),
    };
  }

  private addTrace(t: Trace): void {
    const distinct = this.countDistinct(t.calls);
    const entry = this.entry(t.source, traceName(t), t.calls.length, distinct, this.index.add(t.calls));
    this.traces.push(entry);
    if (this.bigrams !== undefined && this.labels !== undefined) {
      if (this.lut.length < this.vocab.size) this.lut = categoryLookup(this.vocab);
      const groups: ["label" | "attackType", string][] = [["label", entry.label]];
      if (t.source.attackType !== undefined) groups.push(["attackType", t.source.attackType]);
      const side: KsSide | undefined = entry.label === "unlabelled" ? undefined : entry.label;
      this.bigrams.add(t.calls, this.lut, groups, side);
      this.labels.add(entry.label, t.calls, distinct);
    }
  }

  private entry(source: SourceInfo, name: string, calls: number, distinct: number, sequence: number): CleaningTrace {
    return {
      name,
      ...(source.split !== undefined ? { split: source.split } : {}),
      ...(source.attackType !== undefined ? { attackType: source.attackType } : {}),
      format: source.format,
      label: source.label ?? "unlabelled",
      calls,
      distinct,
      sequence,
    };
  }

  /** Distinct ids in `calls`, by stamping a table (no clearing between traces). */
  private countDistinct(calls: Uint16Array): number {
    if (++this.stamp === 0xffffffff) {
      this.stamps.fill(0);
      this.stamp = 1;
    }
    const s = this.stamp;
    const stamps = this.stamps;
    let n = 0;
    for (let i = 0; i < calls.length; i++) {
      const id = calls[i]!;
      if (stamps[id] !== s) {
        stamps[id] = s;
        n++;
      }
    }
    return n;
  }
}
