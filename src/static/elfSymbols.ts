// The symbol tables of an ELF64 file: .symtab when present, and the dynamic symbols, from .dynsym or, with the
// section headers stripped, from DT_SYMTAB sized by DT_GNU_HASH or DT_HASH. Follows the System V gABI (Symbol Table,
// Hash Table) and the GNU hash table layout of glibc's ld.so (DT_GNU_HASH has no gABI text).

import type { Bytes, FileRange } from "./elfBytes.js";
import { DT, type Dynamic, one } from "./elfDynamic.js";
import type { AddressSpace } from "./elfHeaders.js";
import { type ElfSection, sectionRange, SHT_DYNSYM, SHT_NOBITS, SHT_SYMTAB } from "./elfSections.js";

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_*, including 10 = STT_GNU_IFUNC. */
  type: number;
  bind: number;
  shndx: number;
  /** shndx != SHN_UNDEF. */
  defined: boolean;
}

function readSymbolTable(b: Bytes, offset: number, count: number, strtab: FileRange, what: string): ElfSymbol[] {
  b.need(offset, count * 24, what);
  const symbols: ElfSymbol[] = [];
  for (let i = 0; i < count; i++) {
    const at = offset + i * 24;
    const info = b.u8(at + 4);
    const shndx = b.u16(at + 6);
    symbols.push({
      name: b.cstring(strtab.offset + b.u32(at), strtab.end, `the name of symbol ${i} of ${what}`),
      value: b.u64(at + 8),
      size: b.u64(at + 16),
      type: info & 0xf,
      bind: info >> 4,
      shndx,
      defined: shndx !== 0,
    });
  }
  return symbols;
}

/** A symbol-table section and its linked string table. */
function symbolSection(b: Bytes, sections: ElfSection[], s: ElfSection, what: string): ElfSymbol[] {
  if (s.type === SHT_NOBITS) return [];
  if (s.entsize !== 24 && s.entsize !== 0) throw b.fail(`corrupt ELF: ${what} entry size ${s.entsize}, not 24`);
  const strings = sections[s.link];
  if (strings === undefined || s.link === 0) throw b.fail(`corrupt ELF: ${what} links to no string table`);
  return readSymbolTable(b, s.offset, Math.floor(s.size / 24), sectionRange(b, strings), what);
}

/** The number of dynamic symbols from DT_GNU_HASH: one past the highest index any hash chain reaches. */
function gnuHashCount(b: Bytes, at: number): number {
  const nbuckets = b.u32(at);
  const symoffset = b.u32(at + 4);
  const bloomWords = b.u32(at + 8);
  const buckets = at + 16 + bloomWords * 8;
  b.need(buckets, nbuckets * 4, "the DT_GNU_HASH buckets");
  let last = 0;
  for (let i = 0; i < nbuckets; i++) last = Math.max(last, b.u32(buckets + i * 4));
  if (last < symoffset) return symoffset;
  const chains = buckets + nbuckets * 4;
  // Each chain ends with an entry whose low bit is set; reads past the file end throw, so this terminates.
  while ((b.u32(chains + (last - symoffset) * 4) & 1) === 0) last++;
  return last + 1;
}

function dynamicSymbolCount(b: Bytes, space: AddressSpace, dyn: Dynamic): number {
  const gnu = one(dyn, DT.GNU_HASH);
  if (gnu !== undefined) return gnuHashCount(b, space.require(gnu, 16, "DT_GNU_HASH"));
  const hash = one(dyn, DT.HASH);
  if (hash !== undefined) return b.u32(space.require(hash, 8, "DT_HASH") + 4);
  throw b.fail("corrupt ELF: DT_SYMTAB without DT_GNU_HASH or DT_HASH to size it");
}

/** .dynsym, else DT_SYMTAB (with DT_STRTAB's range `strtab`), else none. */
export function readDynamicSymbols(
  b: Bytes,
  space: AddressSpace,
  sections: ElfSection[],
  dyn: Dynamic | undefined,
  strtab: FileRange | undefined,
): ElfSymbol[] {
  const section = sections.find((s) => s.type === SHT_DYNSYM);
  if (section !== undefined) return symbolSection(b, sections, section, ".dynsym");
  const addr = one(dyn, DT.SYMTAB);
  if (dyn === undefined || addr === undefined) return [];
  if (strtab === undefined) throw b.fail("corrupt ELF: DT_SYMTAB without DT_STRTAB");
  const count = dynamicSymbolCount(b, space, dyn);
  return readSymbolTable(b, space.require(addr, count * 24, "DT_SYMTAB"), count, strtab, "the dynamic symbol table");
}

/** .symtab when present, else []. */
export function readSymbols(b: Bytes, sections: ElfSection[]): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  return symtab === undefined ? [] : symbolSection(b, sections, symtab, ".symtab");
}
