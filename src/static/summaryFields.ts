// The order in which an ObjectSummary's typed arrays are laid out in a cache file (summaryCodec.ts frames them),
// and the summary rebuilt from that list. Both directions are written out side by side here so that a field added
// to one is seen to be missing from the other; a type or count that does not fit makes the file corrupt.

import { type ObjectSummary, type Rows, SUMMARY_VERSION } from "./objectSummary.js";

export type Field = Uint8Array | Int32Array | Uint32Array | Float64Array;

export class CorruptSummary extends Error {}

const utf8 = new TextEncoder();

/** Names never contain NUL (ELF strings are NUL-terminated), so NUL separates them. */
function packStrings(strings: readonly string[]): Uint8Array {
  for (const s of strings) if (s.includes("\0")) throw new CorruptSummary("a name contains NUL");
  return utf8.encode(strings.join("\0"));
}

function unpackStrings(bytes: Uint8Array, count: number): string[] {
  if (count === 0) {
    if (bytes.length !== 0) throw new CorruptSummary("string table");
    return [];
  }
  const all = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8").split("\0");
  if (all.length !== count) throw new CorruptSummary("string table");
  return all;
}

export function summaryFields(s: ObjectSummary): Field[] {
  const rows = (r: Rows): Field[] => [r.start, r.items];
  const { functions: fn, sites, events, regions } = s;
  return [
    Float64Array.of(s.instructions, s.strings.length, s.buildId === undefined ? 0 : 1),
    packStrings(s.strings),
    utf8.encode(s.buildId ?? ""),
    fn.start,
    fn.end,
    fn.name,
    fn.sites,
    fn.events,
    ...rows(fn.entryNext),
    fn.entryExit,
    ...rows(fn.taken),
    ...rows(fn.data),
    ...rows(fn.dataSymbols),
    sites.address,
    ...rows(sites.numbers),
    sites.param,
    sites.flags,
    events.kind,
    events.site,
    ...rows(events.refs),
    events.address,
    ...rows(events.next),
    events.exit,
    ...rows(regions.taken),
    ...rows(regions.data),
    ...rows(regions.symbols),
    s.roots,
    s.exportName,
    s.exportFunction,
    s.dataExportName,
    ...rows(s.dataExportRegions),
    s.ifuncResolvers,
    s.arguments.key,
    ...rows(s.arguments.constants),
    ...rows(s.arguments.params),
    s.arguments.unknown,
  ];
}

/** Hands out fields in order, each checked to be of the type its place expects. */
class FieldCursor {
  private at = 0;

  constructor(private readonly fields: readonly Field[]) {}

  u8 = (): Uint8Array => this.take(Uint8Array);
  i32 = (): Int32Array => this.take(Int32Array);
  u32 = (): Uint32Array => this.take(Uint32Array);
  f64 = (): Float64Array => this.take(Float64Array);
  rows = (): Rows => ({ start: this.u32(), items: this.i32() });

  end(): void {
    if (this.at !== this.fields.length) throw new CorruptSummary("field count");
  }

  private take<T extends Field>(type: abstract new (...args: never[]) => T): T {
    const f = this.fields[this.at++];
    if (!(f instanceof type)) throw new CorruptSummary(`field ${this.at - 1}`);
    return f;
  }
}

/** The summary whose fields these are (views on them, not copies); throws CorruptSummary when they do not fit. */
export function summaryFromFields(fields: readonly Field[]): ObjectSummary {
  const c = new FieldCursor(fields);
  const scalars = c.f64();
  if (scalars.length !== 3) throw new CorruptSummary("scalars");
  const [instructions, stringCount, hasBuildId] = scalars as unknown as [number, number, number];
  const strings = unpackStrings(c.u8(), stringCount);
  const buildId = Buffer.from(c.u8()).toString("utf8");
  const start = c.f64();
  const s: ObjectSummary = {
    version: SUMMARY_VERSION,
    ...(hasBuildId === 1 ? { buildId } : {}),
    strings,
    functions: {
      count: start.length,
      start,
      end: c.f64(),
      name: c.i32(),
      sites: c.u32(),
      events: c.u32(),
      entryNext: c.rows(),
      entryExit: c.u8(),
      taken: c.rows(),
      data: c.rows(),
      dataSymbols: c.rows(),
    },
    sites: { address: c.f64(), numbers: c.rows(), param: c.i32(), flags: c.u8() },
    events: {
      kind: c.u8(),
      site: c.i32(),
      refs: c.rows(),
      address: c.f64(),
      next: c.rows(),
      exit: c.u8(),
    },
    regions: { count: 0, taken: c.rows(), data: c.rows(), symbols: c.rows() },
    roots: c.i32(),
    exportName: c.i32(),
    exportFunction: c.i32(),
    dataExportName: c.i32(),
    dataExportRegions: c.rows(),
    ifuncResolvers: c.i32(),
    arguments: { key: c.i32(), constants: c.rows(), params: c.rows(), unknown: c.u8() },
    instructions,
    syscallSites: 0,
  };
  c.end();
  s.regions.count = s.regions.taken.start.length - 1;
  s.syscallSites = s.sites.address.length;
  return s;
}
