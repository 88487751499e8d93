// Pointers to code held in data count only when reachable code can get at that data. An object's data is cut into
// regions at every address something names (section starts, sized symbols, addresses code refers to, targets of
// data pointers); a region is live when reachable code refers into it, when a live region points into it, or when
// reachable code loads the address of a data symbol defined in it. Only the code pointers of live regions are
// possible indirect-call targets. With every data pointer counted, Sun RPC's tables put `socket` in `cat`'s set.
// The assumption, stated: code reaches a slot of a table through an address at or below it in the same region, or
// through the sized symbol that contains it.

import type { ElfFile } from "./elfFile.js";
import { functionAt, type FunctionMap } from "./functionMap.js";
import type { DataRegion, Ref } from "./summaryBuilder.js";
import type { SlotTarget } from "./relocationSlots.js";
import type { DecodedCode } from "./x86Decoder.js";

const PT_LOAD = 1;
const PF_X = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const STT_OBJECT = 1;
const R_X86_64_64 = 1;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_RELATIVE = 8;

export interface RegionMap {
  regions: DataRegion[];
  /** Regions a reference to an address makes live (its own, and all of an enclosing sized symbol's). */
  regionsOf(address: number): number[];
  /** Data symbols (by name) that a GOT slot's load names, when the slot holds a data symbol's address. */
  dataSymbolOfSlot(slot: number): string | undefined;
  /** Exported data symbols -> the regions they cover. */
  exports: Record<string, number[]>;
}

export function buildRegions(
  elf: ElfFile,
  code: DecodedCode,
  map: FunctionMap,
  slots: ReadonlyMap<number, SlotTarget>,
  codeHeld: ReadonlySet<number>,
): RegionMap {
  const segments = elf.segments.filter((s) => s.type === PT_LOAD && (s.flags & PF_X) === 0 && s.memsz > 0);
  const isData = (a: number): boolean => segments.some((s) => a >= s.vaddr && a < s.vaddr + s.memsz) && !elf.isCode(a);
  const sized = [...elf.symbols, ...elf.dynamicSymbols]
    .filter((s) => s.defined && s.type === STT_OBJECT && s.size > 0 && isData(s.value))
    .map((s) => ({ start: s.value, end: s.value + s.size, name: s.name }));
  const pointers = dataPointers(elf, isData);
  if (elf.kind === "exec") scanWords(elf, segments, isData, pointers.data);
  const sorted = anchors(elf, code, segments, sized, pointers, isData);
  const regionAt = (a: number): number => upperIndex(sorted, a);
  const regions: DataRegion[] = Array.from({ length: sorted.length }, () => ({ taken: [], data: [], symbols: [] }));
  for (const [slot, t] of slots) {
    if (codeHeld.has(slot) || !isData(slot)) continue;
    const ref = t.symbol ?? (t.local === undefined ? undefined : functionAt(map, t.local));
    if (ref !== undefined && ref !== -1) regions[regionAt(slot)]!.taken.push(ref as Ref);
  }
  if (elf.kind === "exec")
    for (const [slot, f] of codeWords(elf, segments, map)) regions[regionAt(slot)]!.taken.push(f);
  for (const [slot, target] of pointers.data) regions[regionAt(slot)]!.data.push(regionAt(target));
  for (const [slot, name] of pointers.symbols) regions[regionAt(slot)]!.symbols.push(name);
  const enclosing = (a: number): { start: number; end: number } | undefined =>
    sized.find((s) => a >= s.start && a < s.end);
  const regionsOf = (a: number): number[] => {
    if (!isData(a)) return [];
    const sym = enclosing(a);
    if (sym === undefined) return [regionAt(a)];
    const out: number[] = [];
    for (let r = regionAt(sym.start); r < sorted.length && sorted[r]! < sym.end; r++) out.push(r);
    return out;
  };
  const exports: Record<string, number[]> = {};
  for (const s of elf.dynamicSymbols) {
    if (s.defined && s.type === STT_OBJECT && s.name !== "" && isData(s.value) && !Object.hasOwn(exports, s.name)) {
      exports[s.name] = regionsOf(s.value);
    }
  }
  const gotData = pointers.gotData;
  return { regions: regions.map(dedupe), regionsOf, dataSymbolOfSlot: (slot) => gotData.get(slot), exports };
}

/** Pointers the relocations put in data, by the slot that holds them. */
interface DataPointers {
  /** To data of this object (RELATIVE). */
  data: Map<number, number>;
  /** To a data symbol, looked up across the program (R_X86_64_64). */
  symbols: Map<number, string>;
  /** GOT slots holding a data symbol's address (GLOB_DAT): code that loads one takes that symbol's address. */
  gotData: Map<number, string>;
}

function dataPointers(elf: ElfFile, isData: (a: number) => boolean): DataPointers {
  const out: DataPointers = { data: new Map(), symbols: new Map(), gotData: new Map() };
  for (const r of elf.relocations) {
    if (r.type === R_X86_64_RELATIVE && isData(r.addend)) out.data.set(r.offset, r.addend);
    else if (
      (r.type === R_X86_64_64 || r.type === R_X86_64_GLOB_DAT) &&
      r.symbol?.type === STT_OBJECT &&
      r.symbol.name !== ""
    ) {
      if (r.type === R_X86_64_GLOB_DAT) out.gotData.set(r.offset, r.symbol.name);
      else out.symbols.set(r.offset, r.symbol.name);
    }
  }
  return out;
}

/** Where regions start, sorted: segment and section starts, sized symbols, pointer targets, addresses code names. */
function anchors(
  elf: ElfFile,
  code: DecodedCode,
  segments: readonly Segment[],
  sized: readonly { start: number; end: number }[],
  pointers: DataPointers,
  isData: (a: number) => boolean,
): Float64Array {
  const out = new Set<number>();
  for (const s of segments) out.add(s.vaddr);
  for (const s of elf.sections)
    if ((s.flags & SHF_ALLOC) !== 0 && (s.flags & SHF_EXECINSTR) === 0 && s.addr > 0) out.add(s.addr);
  for (const s of sized) {
    out.add(s.start);
    out.add(s.end);
  }
  for (const t of pointers.data.values()) out.add(t);
  const { memory, immediate } = code;
  const named = (a: number): void => {
    if (!Number.isNaN(a) && isData(a) && !pointers.gotData.has(a)) out.add(a);
  };
  for (let i = 0; i < code.count; i++) {
    named(memory[i]!);
    named(immediate[i]!);
  }
  return Float64Array.from(out).sort();
}

function dedupe(r: DataRegion): DataRegion {
  return { taken: [...new Set(r.taken)], data: [...new Set(r.data)], symbols: [...new Set(r.symbols)] };
}

/** Index of the last anchor <= a. */
function upperIndex(sorted: Float64Array, a: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= a) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

type Segment = ElfFile["segments"][number];

/** Calls `visit` with each aligned, file-backed 8-byte word of the segments and its address. */
function forEachWord(elf: ElfFile, segments: readonly Segment[], visit: (at: number, value: number) => void): void {
  for (const seg of segments) {
    if (seg.filesz === 0) continue;
    const bytes = elf.read(seg.vaddr, seg.filesz);
    if (bytes === undefined) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const first = (8 - (seg.vaddr % 8)) % 8;
    // Two 32-bit halves rather than a BigInt per word: this runs over every word of the data.
    for (let off = first; off + 8 <= bytes.length; off += 8)
      visit(seg.vaddr + off, view.getUint32(off, true) + view.getUint32(off + 4, true) * 2 ** 32);
  }
}

/** A non-PIE program's data carries no relocations: aligned words holding a data address are its data pointers. */
function scanWords(
  elf: ElfFile,
  segments: readonly Segment[],
  isData: (a: number) => boolean,
  out: Map<number, number>,
): void {
  forEachWord(elf, segments, (at, v) => {
    if (v !== 0 && isData(v)) out.set(at, v);
  });
}

/** ... and aligned words holding a code address are its code pointers. */
function codeWords(elf: ElfFile, segments: readonly Segment[], map: FunctionMap): [number, number][] {
  const out: [number, number][] = [];
  forEachWord(elf, segments, (at, v) => {
    if (!elf.isCode(v)) return;
    const f = functionAt(map, v);
    if (f >= 0) out.push([at, f]);
  });
  return out;
}
