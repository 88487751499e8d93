// What each relocated pointer slot of an object will hold once the loader has run: a symbol looked up across the
// program (JUMP_SLOT, GLOB_DAT, 64), a local address (RELATIVE), or an IFUNC resolver's choice (IRELATIVE). PLT
// stubs and `-fno-plt` calls jump through such slots, so this is how calls cross from one object to another.

import type { ElfFile } from "./elfFile.js";

export interface SlotTarget {
  symbol?: string;
  local?: number;
  /** IRELATIVE: `local` is the resolver; the slot holds one of the implementations it picks. */
  ifunc: boolean;
  /** The slot is outside RELRO and not a GOT entry: the program may store another pointer there. */
  writable: boolean;
}

const R_X86_64_64 = 1;
const R_X86_64_GLOB_DAT = 6;
const R_X86_64_JUMP_SLOT = 7;
const R_X86_64_RELATIVE = 8;
const R_X86_64_IRELATIVE = 37;
const STT_OBJECT = 1;
const STT_TLS = 6;
const PT_GNU_RELRO = 0x6474e552;

export function slotTargets(elf: ElfFile): Map<number, SlotTarget> {
  const relro = elf.segments.filter((s) => s.type === PT_GNU_RELRO);
  const inRelro = (a: number): boolean => relro.some((s) => a >= s.vaddr && a < s.vaddr + s.memsz);
  const out = new Map<number, SlotTarget>();
  for (const r of elf.relocations) {
    const fixed = r.type === R_X86_64_GLOB_DAT || r.type === R_X86_64_JUMP_SLOT || inRelro(r.offset);
    if (r.type === R_X86_64_RELATIVE || r.type === R_X86_64_IRELATIVE) {
      if (!elf.isCode(r.addend)) continue;
      out.set(r.offset, {
        local: r.addend,
        ifunc: r.type === R_X86_64_IRELATIVE,
        writable: !fixed && r.type === R_X86_64_RELATIVE,
      });
      continue;
    }
    if (r.type !== R_X86_64_64 && r.type !== R_X86_64_GLOB_DAT && r.type !== R_X86_64_JUMP_SLOT) continue;
    const sym = r.symbol;
    if (sym === undefined || sym.type === STT_OBJECT || sym.type === STT_TLS) continue;
    if (sym.name !== "" && r.addend === 0) {
      out.set(r.offset, { symbol: sym.name, ifunc: false, writable: !fixed });
    } else if (sym.defined && elf.isCode(sym.value + r.addend)) {
      out.set(r.offset, { local: sym.value + r.addend, ifunc: false, writable: !fixed });
    }
  }
  return out;
}
