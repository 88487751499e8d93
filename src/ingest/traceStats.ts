// Streaming statistics over parsed traces for `homeostat inspect`: counts of traces and calls, distinct syscalls,
// length percentiles, and the same per dataset group (split, attack type), plus the most frequent syscalls and
// categories. It keeps counters, never the calls, so that a log of any size is summarised in bounded memory.

import { categoryOf } from "../syscalls/categories.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink, Label, SourceInfo, StreamNote } from "./event.js";

export interface LengthStats {
  min: number;
  p5: number;
  p25: number;
  median: number;
  p75: number;
  p95: number;
  max: number;
  mean: number;
}

export interface GroupStats {
  name: string;
  /** "split", "attackType" or "format" (inputs without dataset labels are grouped by format). */
  kind: "split" | "attackType" | "format";
  label: Label | "mixed" | "unlabelled";
  traces: number;
  syscalls: number;
  distinctSyscalls: number;
  length: LengthStats;
}

export interface Frequency {
  name: string;
  count: number;
  share: number;
}

export interface TraceStatsSummary {
  traces: number;
  syscalls: number;
  distinctSyscalls: number;
  length: LengthStats;
  groups: GroupStats[];
  topSyscalls: Frequency[];
  topCategories: Frequency[];
}

class Group {
  lengths: number[] = [];
  calls = 0;
  seen: Uint8Array = new Uint8Array(64);
  labels = new Set<string>();
  constructor(
    readonly name: string,
    readonly kind: GroupStats["kind"],
  ) {}
}

export class TraceStats implements EventSink {
  private counts: Float64Array = new Float64Array(64);
  private readonly all = new Group("all", "split");
  private readonly groups = new Map<string, Group>();
  private current: Group[] = [];
  private currentLabel: string = "unlabelled";
  private streamLengths = new Map<number, number>();
  private lastStream = Number.NaN;
  private lastLen = 0;

  constructor(private readonly vocab: Vocabulary) {}

  beginSource(source: SourceInfo): void {
    this.current = [this.all];
    this.currentLabel = source.label ?? "unlabelled";
    if (source.split !== undefined) this.current.push(this.group(source.split, "split"));
    if (source.attackType !== undefined) this.current.push(this.group(source.attackType, "attackType"));
    if (source.split === undefined && source.attackType === undefined) {
      this.current.push(this.group(source.format, "format"));
    }
    for (const g of this.current) g.labels.add(this.currentLabel);
    this.streamLengths = new Map();
    this.lastStream = Number.NaN;
  }

  call(stream: number, syscall: number, _time: number, _ret: number, _args: string | undefined): void {
    if (syscall >= this.counts.length) this.counts = growF64(this.counts, syscall + 1);
    this.counts[syscall]!++;
    for (const g of this.current) {
      if (syscall >= g.seen.length) g.seen = growU8(g.seen, syscall + 1);
      g.seen[syscall] = 1;
      g.calls++;
    }
    if (stream !== this.lastStream) {
      if (!Number.isNaN(this.lastStream)) this.streamLengths.set(this.lastStream, this.lastLen);
      this.lastStream = stream;
      this.lastLen = this.streamLengths.get(stream) ?? 0;
    }
    this.lastLen++;
  }

  note(_stream: number, _note: StreamNote): void {}

  endSource(): void {
    if (!Number.isNaN(this.lastStream)) this.streamLengths.set(this.lastStream, this.lastLen);
    for (const len of this.streamLengths.values()) {
      if (len === 0) continue;
      for (const g of this.current) g.lengths.push(len);
    }
    this.streamLengths = new Map();
    this.lastStream = Number.NaN;
    this.current = [];
  }

  summary(top = 10): TraceStatsSummary {
    const total = this.all.calls;
    const syscalls: Frequency[] = [];
    const byCategory = new Map<string, number>();
    for (let id = 0; id < this.counts.length; id++) {
      const c = this.counts[id]!;
      if (c === 0) continue;
      const name = this.vocab.token(id);
      syscalls.push({ name, count: c, share: c / total });
      const cat = categoryOf(name);
      byCategory.set(cat, (byCategory.get(cat) ?? 0) + c);
    }
    syscalls.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
    const categories = [...byCategory].map(([name, count]) => ({ name, count, share: count / total }));
    categories.sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1));
    return {
      traces: this.all.lengths.length,
      syscalls: total,
      distinctSyscalls: countSeen(this.all.seen),
      length: lengthStats(this.all.lengths),
      groups: [...this.groups.values()].map((g) => ({
        name: g.name,
        kind: g.kind,
        label: g.labels.size === 1 ? ([...g.labels][0] as GroupStats["label"]) : "mixed",
        traces: g.lengths.length,
        syscalls: g.calls,
        distinctSyscalls: countSeen(g.seen),
        length: lengthStats(g.lengths),
      })),
      topSyscalls: syscalls.slice(0, top),
      topCategories: categories.slice(0, top),
    };
  }

  private group(name: string, kind: GroupStats["kind"]): Group {
    const key = `${kind}:${name}`;
    let g = this.groups.get(key);
    if (g === undefined) {
      g = new Group(name, kind);
      this.groups.set(key, g);
    }
    return g;
  }
}

function countSeen(seen: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < seen.length; i++) n += seen[i]!;
  return n;
}

function growF64(a: Float64Array, min: number): Float64Array {
  const b = new Float64Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

function growU8(a: Uint8Array, min: number): Uint8Array {
  const b = new Uint8Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/** Nearest-rank percentiles (the value at rank ceil(p * n)), exact and free of interpolation. */
export function lengthStats(lengths: readonly number[]): LengthStats {
  if (lengths.length === 0) return { min: 0, p5: 0, p25: 0, median: 0, p75: 0, p95: 0, max: 0, mean: 0 };
  const s = Float64Array.from(lengths).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  let sum = 0;
  for (const v of s) sum += v;
  return {
    min: s[0]!,
    p5: at(0.05),
    p25: at(0.25),
    median: at(0.5),
    p75: at(0.75),
    p95: at(0.95),
    max: s[s.length - 1]!,
    mean: sum / s.length,
  };
}
