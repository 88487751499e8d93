// Whether a summary's tables fit together. Its shape (every table as long as its count, every list's bounds) is
// checked on each load, in time proportional to the number of tables. Full consistency (lists well formed, every
// index of a function, site, event, region or string in range) is checked before a summary is written: a pass over
// every element, cheap beside the analysis that made it but not beside a warm load, whose loops would run before
// the JIT has compiled them. A loaded file is then trusted because its checksum matches what a writer computed over
// a summary it had checked; one made by hand is outside what the cache defends against (its writer could as well
// write a wrong but consistent summary).

import { ARGUMENT_SLOTS, EventKind, type ObjectSummary, type Rows, symbolOfRef } from "./objectSummary.js";

/** Row starts: count + 1 of them, from 0 up to total. */
const startsOk = (start: Uint32Array, count: number, total: number): boolean =>
  start.length === count + 1 && start[0] === 0 && start[count] === total;

const rowsOk = (r: Rows, count: number): boolean => startsOk(r.start, count, r.items.length);

function ascending(start: Uint32Array): boolean {
  for (let i = 1; i < start.length; i++) if (start[i - 1]! > start[i]!) return false;
  return true;
}

const rowsAscend = (...rows: (Rows | Uint32Array)[]): boolean =>
  rows.every((r) => ascending(r instanceof Uint32Array ? r : r.start));

function allIn(a: Int32Array, lo: number, hi: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i]! < lo || a[i]! >= hi) return false;
  return true;
}

/** References are functions of the object (>= 0) or strings (< 0). */
function refsOk(a: Int32Array, functions: number, strings: number): boolean {
  for (let i = 0; i < a.length; i++) {
    const r = a[i]!;
    if (r >= functions || (r < 0 && symbolOfRef(r) >= strings)) return false;
  }
  return true;
}

/** Argument keys ascend, each an event of the object and an argument slot. */
function argumentKeysOk(key: Int32Array, events: number): boolean {
  for (let i = 0; i < key.length; i++) {
    if (key[i]! < 0 || key[i]! >= events * ARGUMENT_SLOTS || (i > 0 && key[i - 1]! >= key[i]!)) return false;
  }
  return true;
}

/** Each function's next/entryNext lists name events of that function only, and its sites its own sites. */
function localEventsOk(s: ObjectSummary): boolean {
  const { functions: fn, events } = s;
  for (let f = 0; f < fn.count; f++) {
    const n = fn.events[f + 1]! - fn.events[f]!;
    for (let k = fn.entryNext.start[f]!; k < fn.entryNext.start[f + 1]!; k++) {
      const e = fn.entryNext.items[k]!;
      if (e < 0 || e >= n) return false;
    }
    for (let e = fn.events[f]!; e < fn.events[f + 1]!; e++) {
      for (let k = events.next.start[e]!; k < events.next.start[e + 1]!; k++) {
        const x = events.next.items[k]!;
        if (x < 0 || x >= n) return false;
      }
      const site = events.site[e]!;
      if ((events.kind[e] === EventKind.Syscall) !== site >= 0 || events.kind[e]! > EventKind.TailIndirect)
        return false;
      if (site >= 0 && (site < fn.sites[f]! || site >= fn.sites[f + 1]!)) return false;
    }
  }
  return true;
}

/** Every table as long as its count and every list's bounds right. */
export function summaryShapeOk(s: ObjectSummary): boolean {
  const { functions: fn, sites, events, regions } = s;
  const F = fn.count;
  const S = sites.address.length;
  const E = events.kind.length;
  const R = regions.count;
  return (
    fn.end.length === F &&
    fn.name.length === F &&
    fn.entryExit.length === F &&
    startsOk(fn.sites, F, S) &&
    startsOk(fn.events, F, E) &&
    rowsOk(fn.entryNext, F) &&
    rowsOk(fn.taken, F) &&
    rowsOk(fn.data, F) &&
    rowsOk(fn.dataSymbols, F) &&
    rowsOk(sites.numbers, S) &&
    sites.param.length === S &&
    sites.flags.length === S &&
    events.site.length === E &&
    events.address.length === E &&
    events.exit.length === E &&
    rowsOk(events.refs, E) &&
    rowsOk(events.next, E) &&
    R >= 0 &&
    rowsOk(regions.taken, R) &&
    rowsOk(regions.data, R) &&
    rowsOk(regions.symbols, R) &&
    s.exportFunction.length === s.exportName.length &&
    rowsOk(s.dataExportRegions, s.dataExportName.length) &&
    rowsOk(s.arguments.constants, s.arguments.key.length) &&
    rowsOk(s.arguments.params, s.arguments.key.length) &&
    s.arguments.unknown.length === s.arguments.key.length
  );
}

/** The shape, and every list well formed and every index in range. */
export function summaryConsistent(s: ObjectSummary): boolean {
  const { functions: fn, sites, events, regions } = s;
  const F = fn.count;
  const S = sites.address.length;
  const E = events.kind.length;
  const R = regions.count;
  const strings = s.strings.length;
  const a = s.arguments;
  return (
    summaryShapeOk(s) &&
    rowsAscend(fn.sites, fn.events, fn.entryNext, fn.taken, fn.data, fn.dataSymbols, sites.numbers) &&
    rowsAscend(events.refs, events.next, regions.taken, regions.data, regions.symbols, s.dataExportRegions) &&
    rowsAscend(a.constants, a.params) &&
    allIn(fn.name, -1, strings) &&
    allIn(fn.data.items, 0, R) &&
    allIn(fn.dataSymbols.items, 0, strings) &&
    allIn(events.site, -1, S) &&
    allIn(sites.param, -1, ARGUMENT_SLOTS) &&
    allIn(regions.data.items, 0, R) &&
    allIn(regions.symbols.items, 0, strings) &&
    allIn(s.roots, 0, F) &&
    allIn(s.exportName, 0, strings) &&
    allIn(s.exportFunction, 0, F) &&
    allIn(s.dataExportName, 0, strings) &&
    allIn(s.dataExportRegions.items, 0, R) &&
    allIn(s.ifuncResolvers, 0, F) &&
    argumentKeysOk(s.arguments.key, E) &&
    allIn(s.arguments.params.items, 0, ARGUMENT_SLOTS) &&
    refsOk(fn.taken.items, F, strings) &&
    refsOk(events.refs.items, F, strings) &&
    refsOk(regions.taken.items, F, strings) &&
    localEventsOk(s)
  );
}
