// The cleaning facts of a data set (src/eval/datasetCleaning.ts) as HTML tables for the inspect report: duplicates
// per split and group, what each pair of splits shares, label conflicts, degenerate traces. Long lists of names
// fold away in <details>.

import { type CleaningFacts, type NamedCount, shortTraceName } from "../eval/datasetCleaning.js";
import { int, type Row, tableHtml } from "./htmlTable.js";
import { escapeHtml } from "./vegaPage.js";

/** Names listed in a folded list before "and N more". */
const LISTED = 200;

function nameList(names: readonly string[], inputs: readonly string[]): { html: string } {
  if (names.length === 0) return { html: "" };
  const items = names
    .slice(0, LISTED)
    .map((n) => `<code>${escapeHtml(shortTraceName(n, inputs))}</code>`)
    .join(" ");
  const more = names.length > LISTED ? ` … and ${int(names.length - LISTED)} more (all in --json)` : "";
  return { html: `<details><summary>${int(names.length)} names</summary>${items}${more}</details>` };
}

function groupsTable(c: CleaningFacts, inputs: readonly string[]): string {
  const rows: Row[] = c.groups.map((g) => ({
    cells: [
      g.name,
      g.kind,
      { n: int(g.traces) },
      { n: int(g.distinct) },
      { n: int(g.duplicates) },
      { n: int(g.sets.length) },
      nameList(
        g.sets.flatMap((s, i) => s.map((n) => `${i + 1}: ${shortTraceName(n, inputs)}`)),
        [],
      ),
    ],
  }));
  return tableHtml(["group", "kind", "#traces", "#distinct", "#duplicates", "#sets", "sets (set: name)"], rows);
}

function splitsTable(c: CleaningFacts, inputs: readonly string[]): string {
  if (c.splits.length === 0) return '<p class="note">The inputs have no splits.</p>';
  const rows: Row[] = c.splits.map((s) => ({
    cells: [
      `${s.first} ∩ ${s.second}`,
      { n: int(s.sequences) },
      { n: int(s.secondInFirst) },
      { n: int(s.firstInSecond) },
      nameList(s.traces, inputs),
    ],
  }));
  return tableHtml(
    ["splits", "#shared sequences", "#later-split traces found earlier", "#earlier-split traces found later", "traces"],
    rows,
  );
}

function conflictsTable(c: CleaningFacts, inputs: readonly string[]): string {
  if (c.conflicts.sets.length === 0) return '<p class="note">No identical traces carry different labels.</p>';
  const rows: Row[] = c.conflicts.sets.map((s) => ({
    cells: [s.labels.join(" / "), { n: int(s.traces.length) }, nameList(s.traces, inputs)],
  }));
  return tableHtml(["labels", "#traces", "traces"], rows);
}

function degenerateTable(c: CleaningFacts, inputs: readonly string[]): string {
  const row = (what: string, n: NamedCount): Row => ({
    cells: [what, { n: int(n.count) }, nameList(n.traces, inputs)],
  });
  return tableHtml(
    ["degenerate", "#traces", "traces"],
    [
      row("empty (no calls)", c.degenerate.empty),
      row("one distinct call", c.degenerate.oneDistinctCall),
      row(`shorter than a window (${c.window} calls)`, c.degenerate.shorterThanWindow),
    ],
  );
}

/** The cleaning section of the report. */
export function cleaningHtml(c: CleaningFacts, inputs: readonly string[] = []): string {
  const hash =
    `Traces are compared by their call sequences (${c.hash.method}), so whitespace and line endings do not matter. ` +
    `${int(c.traces)} traces, ${int(c.distinct)} distinct sequences.` +
    (c.hash.unconfirmed > 0 ? ` ${int(c.hash.unconfirmed)} matches rest on the hash alone (memory budget).` : "");
  return [
    "<h2>Cleaning facts</h2>",
    `<p class="note">${escapeHtml(hash)}</p>`,
    "<h3>Duplicates within each split and group</h3>",
    groupsTable(c, inputs),
    "<h3>Across splits</h3>",
    '<p class="note">A test trace identical to a training trace measures memory, not detection: ' +
      "<code>homeostat eval --dedupe</code> removes them.</p>",
    splitsTable(c, inputs),
    "<h3>Identical traces under different labels</h3>",
    conflictsTable(c, inputs),
    "<h3>Degenerate traces</h3>",
    degenerateTable(c, inputs),
  ].join("\n");
}
