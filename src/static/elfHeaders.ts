// The ELF header and the program headers of an ELF64 little-endian x86-64 executable or shared object: the
// identification (refusing other classes, encodings and machines with a message saying which), the header's fields
// (with the extended numbering of section header 0), the segments, PT_INTERP, and virtual addresses mapped to file
// offsets through the PT_LOAD segments. Follows the System V gABI (ELF header, program header) and the x86-64 psABI.

import type { Bytes, FileRange } from "./elfBytes.js";

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

const EM_386 = 3;
const EM_X86_64 = 62;
const ET_EXEC = 2;
const ET_DYN = 3;
const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_GNU_EH_FRAME = 0x6474e550;
const PF_X = 1;
const MACHINES: Record<number, string> = {
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S/390",
  40: "ARM",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

export function checkIdent(b: Bytes): void {
  const d = b.slice(0, Math.min(b.length, 20));
  if (d.length < 4 || d[0] !== 0x7f || d[1] !== 0x45 || d[2] !== 0x4c || d[3] !== 0x46) throw b.fail("not an ELF file");
  if (d.length < 20) throw b.fail("truncated ELF: the file ends inside the ELF header");
  const elfClass = d[4]!;
  const encoding = d[5]!;
  if (encoding === 2) throw b.fail("big-endian ELF is not supported: static analysis reads x86-64 binaries");
  if (encoding !== 1) throw b.fail(`corrupt ELF: invalid data encoding ${encoding}`);
  const machine = b.u16(18);
  if (elfClass === 1 && machine === EM_386) {
    throw b.fail("i386 (32-bit) ELF is not supported: static analysis reads x86-64 binaries");
  }
  if (elfClass === 1 && machine === EM_X86_64) {
    throw b.fail("x32 (32-bit x86-64) ELF is not supported: static analysis reads x86-64 binaries");
  }
  if (machine !== EM_X86_64) {
    const name = MACHINES[machine];
    throw b.fail(`ELF for machine ${machine}${name === undefined ? "" : ` (${name})`}, not x86-64`);
  }
  if (elfClass !== 2) throw b.fail(`corrupt ELF: invalid class ${elfClass}`);
}

export interface Header {
  kind: "exec" | "dyn";
  entry: number;
  phoff: number;
  phnum: number;
  shoff: number;
  shnum: number;
  shstrndx: number;
}

export function parseHeader(b: Bytes): Header {
  b.need(0, 64, "the ELF header");
  const type = b.u16(16);
  if (type !== ET_EXEC && type !== ET_DYN) {
    const what = type === 1 ? " (a relocatable object)" : type === 4 ? " (a core dump)" : "";
    throw b.fail(`ELF type ${type}${what} is not an executable or shared object`);
  }
  const h: Header = {
    kind: type === ET_EXEC ? "exec" : "dyn",
    entry: b.u64(24),
    phoff: b.u64(32),
    phnum: b.u16(56),
    shoff: b.u64(40),
    shnum: b.u16(60),
    shstrndx: b.u16(62),
  };
  if (h.shoff !== 0) {
    // Extended numbering (gABI): counts that do not fit 16 bits live in section header 0.
    if (h.shnum === 0) h.shnum = b.u64(h.shoff + 32);
    if (h.phnum === 0xffff) h.phnum = b.u32(h.shoff + 44);
    if (h.shstrndx === 0xffff) h.shstrndx = b.u32(h.shoff + 40);
  }
  if (h.phnum > 0 && b.u16(54) !== 56) throw b.fail(`corrupt ELF: program header entry size ${b.u16(54)}, not 56`);
  if (h.shnum > 0 && b.u16(58) !== 64) throw b.fail(`corrupt ELF: section header entry size ${b.u16(58)}, not 64`);
  b.need(h.phoff, h.phnum * 56, "the program header table");
  if (h.shoff !== 0) b.need(h.shoff, h.shnum * 64, "the section header table");
  else h.shnum = 0;
  return h;
}

export function parseSegments(b: Bytes, h: Header): ElfSegment[] {
  const segments: ElfSegment[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const at = h.phoff + i * 56;
    const s: ElfSegment = {
      type: b.u32(at),
      flags: b.u32(at + 4),
      offset: b.u64(at + 8),
      vaddr: b.u64(at + 16),
      filesz: b.u64(at + 32),
      memsz: b.u64(at + 40),
    };
    if (s.type === PT_LOAD || s.type === PT_DYNAMIC || s.type === PT_INTERP) b.need(s.offset, s.filesz, `segment ${i}`);
    segments.push(s);
  }
  return segments;
}

/** Virtual address to file offset through the PT_LOAD segments. */
export class AddressSpace {
  private readonly loads: ElfSegment[];

  constructor(
    private readonly b: Bytes,
    segments: ElfSegment[],
  ) {
    this.loads = segments.filter((s) => s.type === PT_LOAD);
  }

  offset(vaddr: number, length: number): number | undefined {
    if (!(Number.isSafeInteger(vaddr) && Number.isSafeInteger(length) && length >= 0)) return undefined;
    for (const s of this.loads) {
      if (vaddr >= s.vaddr && vaddr + length <= s.vaddr + s.filesz) return s.offset + (vaddr - s.vaddr);
    }
    return undefined;
  }

  require(vaddr: number, length: number, what: string): number {
    const at = this.offset(vaddr, length);
    if (at === undefined) {
      throw this.b.fail(`corrupt ELF: ${what} (address 0x${vaddr.toString(16)}) is not in the file`);
    }
    return at;
  }

  /** Where the file-backed bytes from vaddr to the end of its segment lie in the file. */
  rest(vaddr: number): FileRange | undefined {
    for (const s of this.loads) {
      if (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz) {
        return { offset: s.offset + (vaddr - s.vaddr), end: s.offset + s.filesz };
      }
    }
    return undefined;
  }

  code(): ElfSegment[] {
    return this.loads.filter((s) => (s.flags & PF_X) !== 0);
  }
}

export function readInterp(b: Bytes, segments: ElfSegment[]): string | undefined {
  const s = segments.find((seg) => seg.type === PT_INTERP);
  return s === undefined ? undefined : b.cstring(s.offset, s.offset + s.filesz, "PT_INTERP");
}
