// The dynamic relocations of an ELF64 x86-64 file: the RELA tables DT_RELA and DT_JMPREL (each entry once, with its
// dynamic symbol), the packed relative relocations of DT_RELR, and, in a static executable, the allocated .rela.*
// sections. Follows the System V gABI (Relocation, Dynamic Section, including DT_RELR) and the x86-64 psABI
// (R_X86_64_* types).

import type { Bytes } from "./elfBytes.js";
import { DT, type Dynamic, one } from "./elfDynamic.js";
import type { AddressSpace } from "./elfHeaders.js";
import { type ElfSection, SHF_ALLOC, SHT_RELA } from "./elfSections.js";
import type { ElfSymbol } from "./elfSymbols.js";

export interface ElfRelocation {
  offset: number;
  /** R_X86_64_*. */
  type: number;
  /** From the dynamic symbol table, when the relocation names a symbol. */
  symbol?: ElfSymbol;
  addend: number;
}

export const R_X86_64_64 = 1;
export const R_X86_64_RELATIVE = 8;

function readRelaTable(
  b: Bytes,
  offset: number,
  size: number,
  symbols: ElfSymbol[],
  seen: Set<number>,
): ElfRelocation[] {
  b.need(offset, size, "a relocation table");
  const out: ElfRelocation[] = [];
  for (let at = offset; at + 24 <= offset + size; at += 24) {
    if (seen.has(at)) continue;
    seen.add(at);
    const index = b.u32(at + 12);
    const r: ElfRelocation = { offset: b.u64(at), type: b.u32(at + 8), addend: b.i64(at + 16) };
    const symbol = index === 0 ? undefined : symbols[index];
    if (symbol !== undefined) r.symbol = symbol;
    out.push(r);
  }
  return out;
}

/**
 * DT_RELR (packed relative relocations, glibc 2.36+) as R_X86_64_RELATIVE entries whose addend is the word in
 * place, so that callers see every relative relocation in one list whichever form the linker chose.
 */
function readRelr(b: Bytes, space: AddressSpace, offset: number, size: number): ElfRelocation[] {
  b.need(offset, size, "DT_RELR");
  const out: ElfRelocation[] = [];
  const emit = (where: number): void => {
    const at = space.offset(where, 8);
    out.push({ offset: where, type: R_X86_64_RELATIVE, addend: at === undefined ? 0 : b.u64(at) });
  };
  let where = 0;
  for (let at = offset; at + 8 <= offset + size; at += 8) {
    const lo = b.u32(at);
    const hi = b.u32(at + 4);
    if ((lo & 1) === 0) {
      where = lo + hi * 2 ** 32;
      emit(where);
      where += 8;
      continue;
    }
    for (let bit = 1; bit < 64; bit++) {
      const set = bit < 32 ? (lo >>> bit) & 1 : (hi >>> (bit - 32)) & 1;
      if (set) emit(where + (bit - 1) * 8);
    }
    where += 63 * 8;
  }
  return out;
}

/**
 * Every entry of DT_RELA and DT_JMPREL, DT_RELR entries as R_X86_64_RELATIVE; without a dynamic section, the allocated
 * .rela.* sections.
 */
export function readRelocations(
  b: Bytes,
  space: AddressSpace,
  sections: ElfSection[],
  dyn: Dynamic | undefined,
  symbols: ElfSymbol[],
): ElfRelocation[] {
  const seen = new Set<number>();
  if (dyn === undefined) {
    // Static executables have no dynamic section, but keep their IRELATIVE relocations in allocated .rela.* sections.
    return sections
      .filter((s) => s.type === SHT_RELA && (s.flags & SHF_ALLOC) !== 0)
      .flatMap((s) => readRelaTable(b, s.offset, s.size, [], seen));
  }
  const out: ElfRelocation[] = [];
  const table = (addrTag: number, sizeTag: number, what: string): void => {
    const addr = one(dyn, addrTag);
    const size = one(dyn, sizeTag) ?? 0;
    if (addr === undefined || size === 0) return;
    out.push(...readRelaTable(b, space.require(addr, size, what), size, symbols, seen));
  };
  table(DT.RELA, DT.RELASZ, "DT_RELA");
  const pltrel = one(dyn, DT.PLTREL);
  if (pltrel === undefined || pltrel === DT.RELA) table(DT.JMPREL, DT.PLTRELSZ, "DT_JMPREL");
  const relr = one(dyn, DT.RELR);
  const relrSize = one(dyn, DT.RELRSZ) ?? 0;
  if (relr !== undefined && relrSize > 0) {
    out.push(...readRelr(b, space, space.require(relr, relrSize, "DT_RELR"), relrSize));
  }
  return out;
}
