// The dynamic section (PT_DYNAMIC) of an ELF64 file: its entries by tag up to DT_NULL, its string table (DT_STRTAB)
// and the strings the loader reads from it: DT_NEEDED, DT_RPATH, DT_RUNPATH and DT_SONAME. The other tables it points
// to are read by elfSymbols.ts, elfRelocations.ts and elfInitArrays.ts. Follows the System V gABI (Dynamic Section).

import type { Bytes, FileRange } from "./elfBytes.js";
import { type AddressSpace, type ElfSegment, PT_DYNAMIC } from "./elfHeaders.js";

export const DT = {
  NEEDED: 1,
  PLTRELSZ: 2,
  PLTGOT: 3,
  HASH: 4,
  STRTAB: 5,
  SYMTAB: 6,
  RELA: 7,
  RELASZ: 8,
  RELAENT: 9,
  STRSZ: 10,
  INIT: 12,
  FINI: 13,
  SONAME: 14,
  RPATH: 15,
  PLTREL: 20,
  JMPREL: 23,
  INIT_ARRAY: 25,
  FINI_ARRAY: 26,
  INIT_ARRAYSZ: 27,
  FINI_ARRAYSZ: 28,
  RUNPATH: 29,
  PREINIT_ARRAY: 32,
  PREINIT_ARRAYSZ: 33,
  RELRSZ: 35,
  RELR: 36,
  GNU_HASH: 0x6ffffef5,
} as const;

/** The dynamic section's entries by tag, in file order, up to DT_NULL. */
export type Dynamic = Map<number, number[]>;

export function parseDynamic(b: Bytes, segments: ElfSegment[]): Dynamic | undefined {
  const seg = segments.find((s) => s.type === PT_DYNAMIC);
  if (seg === undefined) return undefined;
  const dyn: Dynamic = new Map();
  for (let at = seg.offset; at + 16 <= seg.offset + seg.filesz; at += 16) {
    const tag = b.u64(at);
    if (tag === 0) break;
    const values = dyn.get(tag);
    if (values === undefined) dyn.set(tag, [b.u64(at + 8)]);
    else values.push(b.u64(at + 8));
  }
  return dyn;
}

/** The first value of a tag, if the file has a dynamic section and the tag is in it. */
export function one(dyn: Dynamic | undefined, tag: number): number | undefined {
  return dyn?.get(tag)?.[0];
}

export function dynamicStringTable(b: Bytes, space: AddressSpace, dyn: Dynamic): FileRange | undefined {
  const addr = one(dyn, DT.STRTAB);
  if (addr === undefined) return undefined;
  const size = one(dyn, DT.STRSZ);
  if (size !== undefined) {
    const offset = space.require(addr, size, "DT_STRTAB");
    return { offset, end: offset + size };
  }
  const rest = space.rest(addr);
  if (rest === undefined) throw b.fail(`corrupt ELF: DT_STRTAB (address 0x${addr.toString(16)}) is not in the file`);
  return rest;
}

export interface DynamicStrings {
  needed: string[];
  rpath: string[];
  runpath: string[];
  soname?: string;
}

export function dynamicStrings(b: Bytes, dyn: Dynamic | undefined, strtab: FileRange | undefined): DynamicStrings {
  const get = (tag: number, what: string): string[] =>
    (dyn?.get(tag) ?? []).map((index) => {
      if (strtab === undefined) throw b.fail(`corrupt ELF: ${what} without DT_STRTAB`);
      return b.cstring(strtab.offset + index, strtab.end, what);
    });
  const paths = (tag: number, what: string): string[] => get(tag, what).flatMap((p) => p.split(":"));
  return {
    needed: get(DT.NEEDED, "DT_NEEDED"),
    rpath: paths(DT.RPATH, "DT_RPATH"),
    runpath: paths(DT.RUNPATH, "DT_RUNPATH"),
    soname: get(DT.SONAME, "DT_SONAME")[0],
  };
}
