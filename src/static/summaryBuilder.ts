// Turns what the analysis finds in one object, function by function, into the flat tables of an ObjectSummary
// (objectSummary.ts). Each function is appended as soon as it is analysed, so a large object never holds all its
// functions as objects at once; names are interned into one string table and symbol references become PackedRefs.

import { float64s, int32s, uint32s, uint8s } from "./growableArray.js";
import {
  EventKind,
  type EventTable,
  type FunctionTable,
  type ObjectSummary,
  type PackedRef,
  type RegionTable,
  type Rows,
  SiteFlag,
  type SiteTable,
  SUMMARY_VERSION,
  symbolRef,
} from "./objectSummary.js";

/** A callee as the analysis finds it: a function of the same object (its index) or a symbol (its name). */
export type Ref = number | string;

export interface SyscallSite {
  address: number;
  numbers: readonly number[];
  /** Argument register index carrying the number, or -1. */
  param: number;
  unknown: boolean;
  fromMemory: boolean;
}

/** One event of a function's event graph (eventGraph.ts): a syscall site or a call, with what can come next. */
export interface FunctionEvent {
  kind: EventKind;
  /** Index into the function's sites (Syscall), else -1. */
  site: number;
  refs: readonly Ref[];
  address: number;
  /** Indices of the events that can follow this one inside the function. */
  next: readonly number[];
  exit: boolean;
}

export interface FunctionRecord {
  start: number;
  end: number;
  name?: string;
  sites: readonly SyscallSite[];
  events: readonly FunctionEvent[];
  entryNext: readonly number[];
  entryExit: boolean;
  taken: readonly Ref[];
  data: readonly number[];
  dataSymbols: readonly string[];
}

/** A data region as dataRegions.ts finds it. */
export interface DataRegion {
  taken: Ref[];
  data: number[];
  symbols: string[];
}

/** What the object contributes besides its functions. */
export interface ObjectRecord {
  buildId?: string;
  regions: readonly DataRegion[];
  roots: readonly number[];
  /** Exported functions and data symbols, in symbol-table order, each name once. */
  exports: readonly (readonly [string, number])[];
  dataExports: readonly (readonly [string, readonly number[]])[];
  ifuncResolvers: readonly number[];
  instructions: number;
}

class RowsBuilder {
  private readonly start = uint32s();
  private readonly items = int32s();

  constructor() {
    this.start.push(0);
  }

  add(values: Iterable<number>): void {
    for (const v of values) this.items.push(v);
    this.start.push(this.items.length);
  }

  finish(): Rows {
    return { start: this.start.finish(), items: this.items.finish() };
  }
}

export class SummaryBuilder {
  private readonly stringIndex = new Map<string, number>();
  private readonly strings: string[] = [];
  private readonly fn = {
    start: float64s(),
    end: float64s(),
    name: int32s(),
    sites: uint32s(),
    events: uint32s(),
    entryNext: new RowsBuilder(),
    entryExit: uint8s(),
    taken: new RowsBuilder(),
    data: new RowsBuilder(),
    dataSymbols: new RowsBuilder(),
  };
  private readonly site = { address: float64s(), numbers: new RowsBuilder(), param: int32s(), flags: uint8s() };
  private readonly event = {
    kind: uint8s(),
    site: int32s(),
    refs: new RowsBuilder(),
    address: float64s(),
    next: new RowsBuilder(),
    exit: uint8s(),
  };

  constructor() {
    this.fn.sites.push(0);
    this.fn.events.push(0);
  }

  addFunction(r: FunctionRecord): void {
    const { fn, site, event } = this;
    const firstSite = site.address.length;
    fn.start.push(r.start);
    fn.end.push(r.end);
    fn.name.push(r.name === undefined ? -1 : this.intern(r.name));
    fn.entryNext.add(r.entryNext);
    fn.entryExit.push(r.entryExit ? 1 : 0);
    fn.taken.add(r.taken.map((t) => this.ref(t)));
    fn.data.add(r.data);
    fn.dataSymbols.add(r.dataSymbols.map((s) => this.intern(s)));
    for (const s of r.sites) {
      site.address.push(s.address);
      site.numbers.add(s.numbers);
      site.param.push(s.param);
      site.flags.push((s.unknown ? SiteFlag.Unknown : 0) | (s.fromMemory ? SiteFlag.FromMemory : 0));
    }
    for (const e of r.events) {
      event.kind.push(e.kind);
      event.site.push(e.kind === EventKind.Syscall ? firstSite + e.site : -1);
      event.refs.add(e.refs.map((t) => this.ref(t)));
      event.address.push(e.address);
      event.next.add(e.next);
      event.exit.push(e.exit ? 1 : 0);
    }
    fn.sites.push(site.address.length);
    fn.events.push(event.kind.length);
  }

  finish(o: ObjectRecord): ObjectSummary {
    const dataExportRegions = new RowsBuilder();
    for (const [, regions] of o.dataExports) dataExportRegions.add(regions);
    return {
      version: SUMMARY_VERSION,
      ...(o.buildId === undefined ? {} : { buildId: o.buildId }),
      functions: this.functionTable(),
      sites: this.siteTable(),
      events: this.eventTable(),
      regions: this.regionTable(o.regions),
      roots: Int32Array.from(o.roots),
      exportName: Int32Array.from(o.exports, ([name]) => this.intern(name)),
      exportFunction: Int32Array.from(o.exports, ([, f]) => f),
      dataExportName: Int32Array.from(o.dataExports, ([name]) => this.intern(name)),
      dataExportRegions: dataExportRegions.finish(),
      ifuncResolvers: Int32Array.from(o.ifuncResolvers),
      // Filled in by wrapperArguments.ts, which reads the finished tables.
      arguments: {
        key: new Int32Array(0),
        constants: { start: Uint32Array.of(0), items: new Int32Array(0) },
        params: { start: Uint32Array.of(0), items: new Int32Array(0) },
        unknown: new Uint8Array(0),
      },
      instructions: o.instructions,
      syscallSites: this.site.address.length,
      // Every name is interned by now (the exports above included): the table is complete.
      strings: this.strings,
    };
  }

  private functionTable(): FunctionTable {
    const { fn } = this;
    const start = fn.start.finish();
    return {
      count: start.length,
      start,
      end: fn.end.finish(),
      name: fn.name.finish(),
      sites: fn.sites.finish(),
      events: fn.events.finish(),
      entryNext: fn.entryNext.finish(),
      entryExit: fn.entryExit.finish(),
      taken: fn.taken.finish(),
      data: fn.data.finish(),
      dataSymbols: fn.dataSymbols.finish(),
    };
  }

  private siteTable(): SiteTable {
    const { site } = this;
    return {
      address: site.address.finish(),
      numbers: site.numbers.finish(),
      param: site.param.finish(),
      flags: site.flags.finish(),
    };
  }

  private eventTable(): EventTable {
    const { event } = this;
    return {
      kind: event.kind.finish(),
      site: event.site.finish(),
      refs: event.refs.finish(),
      address: event.address.finish(),
      next: event.next.finish(),
      exit: event.exit.finish(),
    };
  }

  private regionTable(regions: readonly DataRegion[]): RegionTable {
    const taken = new RowsBuilder();
    const data = new RowsBuilder();
    const symbols = new RowsBuilder();
    for (const r of regions) {
      taken.add(r.taken.map((t) => this.ref(t)));
      data.add(r.data);
      symbols.add(r.symbols.map((s) => this.intern(s)));
    }
    return { count: regions.length, taken: taken.finish(), data: data.finish(), symbols: symbols.finish() };
  }

  private intern(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.stringIndex.set(s, i);
    }
    return i;
  }

  private ref(r: Ref): PackedRef {
    return typeof r === "number" ? r : symbolRef(this.intern(r));
  }
}
