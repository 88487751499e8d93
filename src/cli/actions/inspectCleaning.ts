// The cleaning facts of `homeostat inspect` on the terminal: duplicates within splits and groups, traces shared by
// two splits, identical traces under different labels, degenerate traces; the first few names of each, relative to
// the inputs (all of them, in full, are in --json).

import {
  type CleaningFacts,
  type GroupDuplicates,
  type NamedCount,
  shortTraceName,
} from "../../eval/datasetCleaning.js";
import { num, paint, table } from "../terminal.js";

/** Names shown per fact on the terminal. */
const SHOWN = 3;

/** The first `shown` names of a list, and how many more there are. */
type NameList = (list: readonly string[], shown?: number) => string;

function nameList(inputs: readonly string[]): NameList {
  return (list, shown = SHOWN) => {
    const head = list
      .slice(0, shown)
      .map((n) => shortTraceName(n, inputs))
      .join(", ");
    return list.length > shown ? `${head} (+${num(list.length - shown)} more)` : head;
  };
}

function groupTable(groups: readonly GroupDuplicates[], names: NameList): string {
  return table(
    ["group", "kind", "traces", "distinct", "duplicates", "largest set", "e.g."],
    groups.map((g) => [
      g.name,
      g.kind,
      g.traces,
      g.distinct,
      g.duplicates,
      g.sets[0]?.length ?? 0,
      g.sets[0] !== undefined ? names(g.sets[0], 2) : "",
    ]),
  );
}

function splitLines(c: CleaningFacts, names: NameList): string[] {
  if (c.splits.length === 0) return [];
  return [
    "across splits:",
    ...c.splits.map(
      (s) =>
        `  ${s.first} ∩ ${s.second}: ${num(s.sequences)} shared sequences; ${num(s.secondInFirst)} ${s.second} ` +
        `traces identical to a ${s.first} trace, ${num(s.firstInSecond)} the other way` +
        (s.traces.length > 0 ? ` (${names(s.traces)})` : ""),
    ),
  ];
}

function degenerateLines(c: CleaningFacts, names: NameList): string[] {
  const line = (label: string, n: NamedCount): string =>
    `  ${label}: ${paint(num(n.count), n.count > 0 ? "yellow" : "dim")}${n.count > 0 ? ` (${names(n.traces)})` : ""}`;
  return [
    "degenerate traces:",
    line("empty", c.degenerate.empty),
    line("one distinct call", c.degenerate.oneDistinctCall),
    line(`shorter than a window (${c.window} calls)`, c.degenerate.shorterThanWindow),
  ];
}

/** The cleaning section of the inspect text output; names are shown relative to `inputs`. */
export function renderCleaning(c: CleaningFacts, inputs: readonly string[] = []): string {
  const names = nameList(inputs);
  const k = c.conflicts;
  const out = [
    `${paint("cleaning", "bold")}: ${num(c.traces)} traces, ${num(c.distinct)} distinct call sequences ` +
      "(compared call by call, not by file bytes)",
    groupTable(c.groups, names),
    ...splitLines(c, names),
    `label conflicts: ${paint(num(k.sequences), k.sequences > 0 ? "yellow" : "dim")} sequences carried by ` +
      `${num(k.traces)} traces under different labels` +
      (k.sets.length > 0 ? ` (e.g. ${k.sets[0]!.labels.join("/")}: ${names(k.sets[0]!.traces)})` : ""),
    ...degenerateLines(c, names),
  ];
  if (c.hash.unconfirmed > 0) {
    out.push(
      paint(
        `${num(c.hash.unconfirmed)} matches rest on the 64-bit hash alone (over --max-held-calls); raise it to compare every call`,
        "yellow",
      ),
    );
  }
  return `${out.join("\n")}\n`;
}
