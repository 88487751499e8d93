// The cleaning facts of a data set, what a researcher checks before trusting any figure computed on it (the Sandia
// KS study set them out first): exact duplicate traces within each split and group, traces shared by two splits
// (a test trace identical to a training trace measures memory, not detection), identical traces carrying different
// labels, and degenerate traces (empty, one distinct call, shorter than a window). Traces are compared by their call
// sequences (sequenceIndex.ts), so two files that differ only in whitespace or line endings are duplicates.

/** One trace as the cleaning facts see it. */
export interface CleaningTrace {
  /** The trace's name (a file path, or path#stream). */
  name: string;
  split?: string;
  /** Attack type from the layout. */
  attackType?: string;
  /** Format name, the group of traces that have neither split nor attack type (none: in no group). */
  format?: string;
  label: "normal" | "attack" | "unlabelled";
  calls: number;
  distinct: number;
  /** The sequence id (SequenceIndex); -1 for an empty trace. */
  sequence: number;
}

/** Duplicates inside one group: copies of an earlier trace of the same group. */
export interface GroupDuplicates {
  name: string;
  kind: "split" | "attackType" | "format";
  traces: number;
  distinct: number;
  /** traces - distinct (empty traces are not counted: they are degenerate). */
  duplicates: number;
  /** Each set of identical traces of the group, two or more names, first seen first; largest sets first. */
  sets: string[][];
}

/** What two splits share. */
export interface SplitOverlap {
  /** The earlier split (in order of appearance) and the later one. */
  first: string;
  second: string;
  /** Distinct sequences found in both. */
  sequences: number;
  /** Traces of `second` identical to a trace of `first`, and the reverse. */
  secondInFirst: number;
  firstInSecond: number;
  /** The names of those traces of `second`. */
  traces: string[];
}

/** Identical traces under different labels. */
export interface LabelConflict {
  labels: string[];
  traces: string[];
}

export interface NamedCount {
  count: number;
  traces: string[];
}

export interface CleaningFacts {
  traces: number;
  /** Distinct non-empty sequences. */
  distinct: number;
  /** The window length "shorter than a window" uses. */
  window: number;
  groups: GroupDuplicates[];
  splits: SplitOverlap[];
  conflicts: { sequences: number; traces: number; sets: LabelConflict[] };
  degenerate: { empty: NamedCount; oneDistinctCall: NamedCount; shorterThanWindow: NamedCount };
  /** Hash matches whose calls differed, and matches over the memory budget taken on the hash alone. */
  hash: { method: string; collisions: number; unconfirmed: number };
}

export const HASH_METHOD =
  "FNV-1a and Murmur3-style 32-bit lanes over the call ids, plus the length; matches confirmed";

/** Splits in protocol order: training first, then what is tested on; others after, in order of appearance. */
const SPLIT_ORDER = ["training", "train", "validation", "test", "normal", "attack"];

function splitRank(name: string): number {
  const i = SPLIT_ORDER.indexOf(name);
  return i < 0 ? SPLIT_ORDER.length : i;
}

const KIND_RANK: Record<GroupDuplicates["kind"], number> = { split: 0, attackType: 1, format: 2 };

function groupKeys(t: CleaningTrace): [GroupDuplicates["kind"], string][] {
  const keys: [GroupDuplicates["kind"], string][] = [];
  if (t.split !== undefined) keys.push(["split", t.split]);
  if (t.attackType !== undefined) keys.push(["attackType", t.attackType]);
  if (keys.length === 0 && t.format !== undefined) keys.push(["format", t.format]);
  return keys;
}

/** Names of each sequence with two or more traces, largest sets first, then first seen first. */
function duplicateSets(traces: readonly CleaningTrace[]): string[][] {
  const bySequence = new Map<number, string[]>();
  for (const t of traces) {
    if (t.sequence < 0) continue;
    const names = bySequence.get(t.sequence);
    if (names === undefined) bySequence.set(t.sequence, [t.name]);
    else names.push(t.name);
  }
  return [...bySequence.values()].filter((s) => s.length > 1).sort((a, b) => b.length - a.length);
}

function groupDuplicates(traces: readonly CleaningTrace[]): GroupDuplicates[] {
  const groups = new Map<string, { kind: GroupDuplicates["kind"]; name: string; members: CleaningTrace[] }>();
  for (const t of traces) {
    for (const [kind, name] of groupKeys(t)) {
      const key = `${kind}:${name}`;
      const g = groups.get(key) ?? { kind, name, members: [] };
      g.members.push(t);
      groups.set(key, g);
    }
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      KIND_RANK[a.kind] - KIND_RANK[b.kind] ||
      (a.kind === "split" ? splitRank(a.name) - splitRank(b.name) : a.name.localeCompare(b.name)),
  );
  return ordered.map(({ kind, name, members }) => {
    const nonEmpty = members.filter((t) => t.sequence >= 0);
    const distinct = new Set(nonEmpty.map((t) => t.sequence)).size;
    return {
      name,
      kind,
      traces: members.length,
      distinct,
      duplicates: nonEmpty.length - distinct,
      sets: duplicateSets(members),
    };
  });
}

/** Every pair of splits, in protocol order (training first), with what they share (pairs that share nothing included). */
function splitOverlaps(traces: readonly CleaningTrace[]): SplitOverlap[] {
  const bySplit = new Map<string, CleaningTrace[]>();
  for (const t of traces) {
    if (t.split === undefined || t.sequence < 0) continue;
    const list = bySplit.get(t.split) ?? [];
    list.push(t);
    bySplit.set(t.split, list);
  }
  const names = [...bySplit.keys()].sort((a, b) => splitRank(a) - splitRank(b));
  const sequences = new Map(names.map((n) => [n, new Set(bySplit.get(n)!.map((t) => t.sequence))]));
  const out: SplitOverlap[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const [first, second] = [names[i]!, names[j]!];
      const inFirst = sequences.get(first)!;
      const inSecond = sequences.get(second)!;
      const copies = bySplit.get(second)!.filter((t) => inFirst.has(t.sequence));
      out.push({
        first,
        second,
        sequences: [...inSecond].filter((s) => inFirst.has(s)).length,
        secondInFirst: copies.length,
        firstInSecond: bySplit.get(first)!.filter((t) => inSecond.has(t.sequence)).length,
        traces: copies.map((t) => t.name),
      });
    }
  }
  return out;
}

function labelConflicts(traces: readonly CleaningTrace[]): CleaningFacts["conflicts"] {
  const bySequence = new Map<number, CleaningTrace[]>();
  for (const t of traces) {
    if (t.sequence < 0 || t.label === "unlabelled") continue;
    const list = bySequence.get(t.sequence) ?? [];
    list.push(t);
    bySequence.set(t.sequence, list);
  }
  const sets: LabelConflict[] = [];
  for (const members of bySequence.values()) {
    const labels = [...new Set(members.map((t) => t.label))].sort();
    if (labels.length > 1) sets.push({ labels, traces: members.map((t) => t.name) });
  }
  sets.sort((a, b) => b.traces.length - a.traces.length);
  return { sequences: sets.length, traces: sets.reduce((n, s) => n + s.traces.length, 0), sets };
}

function named(traces: readonly CleaningTrace[], keep: (t: CleaningTrace) => boolean): NamedCount {
  const names = traces.filter(keep).map((t) => t.name);
  return { count: names.length, traces: names };
}

/** A trace's name for display: relative to the input folder (or archive) it was found in, when there is one. */
export function shortTraceName(name: string, inputs: readonly string[]): string {
  for (const input of inputs) {
    for (const prefix of [input.endsWith("/") ? input : `${input}/`, `${input}:`]) {
      if (name.startsWith(prefix) && name.length > prefix.length) return name.slice(prefix.length);
    }
  }
  return name;
}

/** The cleaning facts of traces whose sequence ids come from one SequenceIndex. */
export function cleaningFacts(
  traces: readonly CleaningTrace[],
  window: number,
  hash: { collisions: number; unconfirmed: number } = { collisions: 0, unconfirmed: 0 },
): CleaningFacts {
  return {
    traces: traces.length,
    distinct: new Set(traces.filter((t) => t.sequence >= 0).map((t) => t.sequence)).size,
    window,
    groups: groupDuplicates(traces),
    splits: splitOverlaps(traces),
    conflicts: labelConflicts(traces),
    degenerate: {
      empty: named(traces, (t) => t.calls === 0),
      oneDistinctCall: named(traces, (t) => t.distinct === 1),
      shorterThanWindow: named(traces, (t) => t.calls > 0 && t.calls < window),
    },
    hash: { method: HASH_METHOD, collisions: hash.collisions, unconfirmed: hash.unconfirmed },
  };
}
