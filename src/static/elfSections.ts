// The section header table of an ELF64 file and its section names (from the table e_shstrndx names), and where each
// section's contents lie in the file. Sections are optional: a stripped file has none, and everything the loader
// needs then comes from the program headers. Follows the System V gABI (Sections).

import type { Bytes, FileRange } from "./elfBytes.js";
import type { Header } from "./elfHeaders.js";

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export const SHT_SYMTAB = 2;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHF_ALLOC = 2;

export function parseSections(b: Bytes, h: Header): ElfSection[] {
  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const at = h.shoff + i * 64;
    nameOffsets.push(b.u32(at));
    sections.push({
      name: "",
      type: b.u32(at + 4),
      flags: b.u64(at + 8),
      addr: b.u64(at + 16),
      offset: b.u64(at + 24),
      size: b.u64(at + 32),
      link: b.u32(at + 40),
      info: b.u32(at + 44),
      entsize: b.u64(at + 56),
    });
  }
  const names = sections[h.shstrndx];
  if (names !== undefined && h.shstrndx !== 0 && names.type !== SHT_NOBITS) {
    b.need(names.offset, names.size, "the section name table");
    sections.forEach((s, i) => {
      s.name = b.cstring(names.offset + nameOffsets[i]!, names.offset + names.size, `the name of section ${i}`);
    });
  }
  return sections;
}

/** Where a section's contents lie in the file (empty for SHT_NOBITS), bounds-checked. */
export function sectionRange(b: Bytes, s: ElfSection): FileRange {
  if (s.type === SHT_NOBITS) return { offset: 0, end: 0 };
  b.need(s.offset, s.size, `section ${s.name || "(unnamed)"}`);
  return { offset: s.offset, end: s.offset + s.size };
}
