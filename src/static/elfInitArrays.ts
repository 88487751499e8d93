// The init, fini and preinit arrays of an ELF64 x86-64 file (DT_INIT_ARRAY, DT_FINI_ARRAY, DT_PREINIT_ARRAY, or
// their sections in a static executable): the functions the loader calls before and after main, as addresses with
// the array's relocations applied (load base 0). Follows the System V gABI (Dynamic Section, Initialization and
// Termination Functions) and the x86-64 psABI (R_X86_64_RELATIVE, R_X86_64_64).

import type { Bytes } from "./elfBytes.js";
import { DT, type Dynamic, one } from "./elfDynamic.js";
import type { AddressSpace } from "./elfHeaders.js";
import { type ElfRelocation, R_X86_64_64, R_X86_64_RELATIVE } from "./elfRelocations.js";
import { type ElfSection, SHT_FINI_ARRAY, SHT_INIT_ARRAY, SHT_PREINIT_ARRAY } from "./elfSections.js";

/** An init/fini array's function addresses: words with their relocations applied (load base 0), zeros dropped. */
function readArray(
  b: Bytes,
  space: AddressSpace,
  addr: number,
  size: number,
  relocations: Map<number, ElfRelocation>,
  what: string,
): number[] {
  const at = space.require(addr, size, what);
  const out: number[] = [];
  for (let i = 0; i + 8 <= size; i += 8) {
    let value = b.u64(at + i);
    const r = relocations.get(addr + i);
    if (r?.type === R_X86_64_RELATIVE) value = r.addend;
    else if (r?.type === R_X86_64_64) value = r.symbol?.defined === true ? r.symbol.value + r.addend : 0;
    if (value !== 0) out.push(value);
  }
  return out;
}

export interface Arrays {
  initArray: number[];
  finiArray: number[];
  preinitArray: number[];
}

export function readArrays(
  b: Bytes,
  space: AddressSpace,
  sections: ElfSection[],
  dyn: Dynamic | undefined,
  relocations: ElfRelocation[],
): Arrays {
  const byOffset = new Map(relocations.map((r) => [r.offset, r]));
  const array = (addrTag: number, sizeTag: number, sectionType: number, what: string): number[] => {
    const addr = one(dyn, addrTag);
    if (addr !== undefined) return readArray(b, space, addr, one(dyn, sizeTag) ?? 0, byOffset, what);
    const section = dyn === undefined ? sections.find((s) => s.type === sectionType) : undefined;
    return section === undefined ? [] : readArray(b, space, section.addr, section.size, byOffset, section.name);
  };
  return {
    initArray: array(DT.INIT_ARRAY, DT.INIT_ARRAYSZ, SHT_INIT_ARRAY, "DT_INIT_ARRAY"),
    finiArray: array(DT.FINI_ARRAY, DT.FINI_ARRAYSZ, SHT_FINI_ARRAY, "DT_FINI_ARRAY"),
    preinitArray: array(DT.PREINIT_ARRAY, DT.PREINIT_ARRAYSZ, SHT_PREINIT_ARRAY, "DT_PREINIT_ARRAY"),
  };
}
