// A read-only parser of ELF64 little-endian x86-64 executables and shared objects: segments, sections, the dynamic
// section (needed libraries, search paths, symbols, relocations, init/fini arrays), the GNU build-id and function
// ranges from .eh_frame. Follows the System V gABI (ELF-64 object file format) and the x86-64 psABI. Every read is
// bounds-checked, so a malformed file fails with an E_FORMAT HomeostatError, never with a RangeError. What the loader
// needs is parsed at once; the tables only the analysis of an object's code reads are parsed when first used, since
// an object whose summary is cached never needs them.

import { HomeostatError } from "../errors.js";
import { ehFrameAddressFromHeader, parseEhFrame, type FunctionRange } from "./ehFrame.js";
import { type ByteSource, openFileSource } from "./fileSource.js";

export type { FunctionRange } from "./ehFrame.js";

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

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

export interface ElfRelocation {
  offset: number;
  /** R_X86_64_*. */
  type: number;
  /** From the dynamic symbol table, when the relocation names a symbol. */
  symbol?: ElfSymbol;
  addend: number;
}

export interface ElfFile {
  path: string;
  bytes: Uint8Array;
  /** ET_EXEC or ET_DYN. */
  kind: "exec" | "dyn";
  entry: number;
  segments: ElfSegment[];
  /**
   * Empty when the section headers were stripped: everything else then comes from PT_DYNAMIC. Parsed on first use,
   * like the fields below.
   */
  readonly sections: ElfSection[];
  /** PT_INTERP. */
  interp?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  /** DT_RPATH split on ':' ($ORIGIN not expanded); empty when absent. */
  rpath: string[];
  /** DT_RUNPATH split on ':' ($ORIGIN not expanded); empty when absent. */
  runpath: string[];
  soname?: string;
  init?: number;
  fini?: number;
  /** NT_GNU_BUILD_ID, lowercase hex. */
  buildId?: string;
  // The fields below are parsed on first use (see parseElf): a format error in them is thrown there, as E_FORMAT,
  // and again at every later use.
  /** Function addresses: the array words with relocations applied, zeros dropped. */
  readonly initArray: number[];
  readonly finiArray: number[];
  readonly preinitArray: number[];
  readonly dynamicSymbols: ElfSymbol[];
  /** .symtab when present, else []. */
  readonly symbols: ElfSymbol[];
  /** Every entry of DT_RELA and DT_JMPREL, DT_RELR entries as R_X86_64_RELATIVE (see readRelocations). */
  readonly relocations: ElfRelocation[];
  /** One per .eh_frame FDE, sorted by start. */
  readonly functionRanges: FunctionRange[];
  /** File bytes at a virtual address (through PT_LOAD segments), or undefined when not file-backed. */
  read(vaddr: number, length: number): Uint8Array | undefined;
  /** The file-backed parts of executable (PF_X) PT_LOAD segments. */
  codeRanges(): { vaddr: number; bytes: Uint8Array }[];
  /** Whether vaddr falls in an executable segment. */
  isCode(vaddr: number): boolean;
  /**
   * Lets go of what was parsed on first use, and of the file's bytes when it was read from a file: used again, they
   * are parsed (and read) again. An analysis releases an object once its summary is built.
   */
  release(): void;
}

const EM_386 = 3;
const EM_X86_64 = 62;
const ET_EXEC = 2;
const ET_DYN = 3;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_NOTE = 4;
const PT_GNU_EH_FRAME = 0x6474e550;
const PF_X = 1;
const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const SHT_INIT_ARRAY = 14;
const SHT_FINI_ARRAY = 15;
const SHT_PREINIT_ARRAY = 16;
const SHF_ALLOC = 2;
const DT = {
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
const R_X86_64_64 = 1;
const R_X86_64_RELATIVE = 8;
const NT_GNU_BUILD_ID = 3;
/** Longer names than this are taken as corruption: it bounds the work a crafted string table can cause. */
const MAX_STRING = 1 << 16;
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

const utf8 = new TextDecoder("utf-8");

interface Piece {
  start: number;
  bytes: Uint8Array;
  view: DataView;
}

/** Pieces of a file read at once: a whole page or more, since the headers a loader reads lie close together. */
const PIECE_BYTES = 16384;

function pieceOf(start: number, bytes: Uint8Array): Piece {
  return { start, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * Bounds-checked little-endian reads; every failure is an E_FORMAT naming the file. Over a file, only the pieces
 * read are held until something needs the whole file (`whole`): an object whose summary is cached needs its
 * headers and dynamic section, a few pages of a file of megabytes.
 */
class Bytes {
  readonly length: number;
  private data: Uint8Array | undefined;
  private pieces: Piece[] = [];
  /** Where the file's bytes come from when they are not in memory (undefined: given whole, kept). */
  private readonly source: ByteSource | undefined;

  constructor(
    data: Uint8Array | ByteSource,
    readonly path: string,
  ) {
    if (data instanceof Uint8Array) {
      this.length = data.length;
      this.setWhole(data);
    } else {
      this.length = data.length;
      this.source = data;
    }
  }

  private setWhole(data: Uint8Array): void {
    this.data = data;
    this.pieces = [pieceOf(0, data)];
  }

  /** Lets go of the file's bytes, when they can be read again; the source checks then that the file is the same. */
  release(): void {
    if (this.source === undefined) return;
    this.data = undefined;
    this.pieces = [];
  }

  /** The whole file, read now if only pieces were. Bytes read before must be unchanged (E_IO otherwise). */
  whole(): Uint8Array {
    if (this.data !== undefined) return this.data;
    const all = this.source!.all();
    const same =
      all.length === this.length &&
      this.pieces.every((p) => Buffer.compare(p.bytes, all.subarray(p.start, p.start + p.bytes.length)) === 0);
    if (!same) throw new HomeostatError("E_IO", "the file changed while it was being analysed", { file: this.path });
    this.setWhole(all);
    return all;
  }

  /** A piece holding [at, at + length), which lies inside the file. */
  private piece(at: number, length: number): Piece {
    for (const p of this.pieces) if (at >= p.start && at + length <= p.start + p.bytes.length) return p;
    const end = Math.min(this.length, at + Math.max(length, PIECE_BYTES));
    const p = pieceOf(at, this.source!.range(at, end - at));
    this.pieces.push(p);
    return p;
  }

  fail(message: string): HomeostatError {
    return new HomeostatError("E_FORMAT", message, { file: this.path });
  }

  /** Throws unless [at, at + length) lies inside the file. */
  need(at: number, length: number, what: string): void {
    if (!(Number.isSafeInteger(at) && Number.isSafeInteger(length) && at >= 0 && length >= 0)) {
      throw this.fail(`corrupt ELF: ${what} has an impossible offset or size`);
    }
    if (at + length > this.length) throw this.fail(`truncated ELF: ${what} lies past the end of the file`);
  }

  /** Bytes [at, at + length) after `need`. */
  slice(at: number, length: number): Uint8Array {
    const p = this.piece(at, length);
    return p.bytes.subarray(at - p.start, at - p.start + length);
  }

  u8(at: number): number {
    this.need(at, 1, `a read at offset ${at}`);
    const p = this.piece(at, 1);
    return p.bytes[at - p.start]!;
  }
  u16(at: number): number {
    this.need(at, 2, `a read at offset ${at}`);
    const p = this.piece(at, 2);
    return p.view.getUint16(at - p.start, true);
  }
  u32(at: number): number {
    this.need(at, 4, `a read at offset ${at}`);
    const p = this.piece(at, 4);
    return p.view.getUint32(at - p.start, true);
  }
  u64(at: number): number {
    this.need(at, 8, `a read at offset ${at}`);
    const p = this.piece(at, 8);
    const i = at - p.start;
    return p.view.getUint32(i, true) + p.view.getUint32(i + 4, true) * 2 ** 32;
  }
  i64(at: number): number {
    this.need(at, 8, `a read at offset ${at}`);
    const p = this.piece(at, 8);
    const i = at - p.start;
    return p.view.getUint32(i, true) + p.view.getInt32(i + 4, true) * 2 ** 32;
  }

  /** The NUL-terminated string at `at`, which must end before `end`. */
  cstring(at: number, end: number, what: string): string {
    const limit = Math.min(end, this.length, at + MAX_STRING);
    if (!(at >= 0 && at < limit)) throw this.fail(`corrupt ELF: ${what} lies outside its string table`);
    const text = this.slice(at, limit - at);
    const stop = text.indexOf(0);
    if (stop < 0 && limit === at + MAX_STRING) throw this.fail(`corrupt ELF: ${what} is longer than 64 KiB`);
    if (stop < 0) throw this.fail(`corrupt ELF: ${what} is not terminated inside its string table`);
    return utf8.decode(text.subarray(0, stop));
  }
}

function checkIdent(b: Bytes): void {
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

interface Header {
  kind: "exec" | "dyn";
  entry: number;
  phoff: number;
  phnum: number;
  shoff: number;
  shnum: number;
  shstrndx: number;
}

function parseHeader(b: Bytes): Header {
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

function parseSegments(b: Bytes, h: Header): ElfSegment[] {
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

function parseSections(b: Bytes, h: Header): ElfSection[] {
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
function sectionRange(b: Bytes, s: ElfSection): FileRange {
  if (s.type === SHT_NOBITS) return { offset: 0, end: 0 };
  b.need(s.offset, s.size, `section ${s.name || "(unnamed)"}`);
  return { offset: s.offset, end: s.offset + s.size };
}

/** Virtual address to file offset through the PT_LOAD segments. */
class AddressSpace {
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

/** The dynamic section's entries by tag, in file order, up to DT_NULL. */
type Dynamic = Map<number, number[]>;

function parseDynamic(b: Bytes, segments: ElfSegment[]): Dynamic | undefined {
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

function one(dyn: Dynamic | undefined, tag: number): number | undefined {
  return dyn?.get(tag)?.[0];
}

/** File offsets [offset, end). */
interface FileRange {
  offset: number;
  end: number;
}

function dynamicStringTable(b: Bytes, space: AddressSpace, dyn: Dynamic): FileRange | undefined {
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

interface DynamicStrings {
  needed: string[];
  rpath: string[];
  runpath: string[];
  soname?: string;
}

function dynamicStrings(b: Bytes, dyn: Dynamic | undefined, strtab: FileRange | undefined): DynamicStrings {
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

function readDynamicSymbols(
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

function readRelocations(
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

interface Arrays {
  initArray: number[];
  finiArray: number[];
  preinitArray: number[];
}

function readArrays(
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

/** The GNU build-id in a run of notes, if any. */
function buildIdIn(b: Bytes, offset: number, size: number, align: number): string | undefined {
  const pad = (n: number): number => Math.ceil(n / align) * align;
  const end = offset + size;
  for (let at = offset; at + 12 <= end;) {
    const namesz = b.u32(at);
    const descsz = b.u32(at + 4);
    const type = b.u32(at + 8);
    const desc = at + 12 + pad(namesz);
    const next = desc + pad(descsz);
    if (next > end) return undefined;
    const isGnu = namesz === 4 && b.u32(at + 12) === 0x00554e47; // "GNU\0"
    if (type === NT_GNU_BUILD_ID && isGnu) return Buffer.from(b.slice(desc, descsz)).toString("hex");
    at = next;
  }
  return undefined;
}

/** The build-id from PT_NOTE segments, else from SHT_NOTE sections (read only then). */
function readBuildId(b: Bytes, h: Header, segments: ElfSegment[], sections: () => ElfSection[]): string | undefined {
  // Notes in a segment aligned to 8 (GNU property notes) are padded to 8 bytes, all others to 4, as readelf does.
  const align = (i: number): number => (b.u64(h.phoff + i * 56 + 48) === 8 ? 8 : 4);
  const search = (notes: { offset: number; size: number; align: number }[]): string | undefined => {
    for (const n of notes) {
      b.need(n.offset, n.size, "a note");
      const id = buildIdIn(b, n.offset, n.size, n.align);
      if (id !== undefined) return id;
    }
    return undefined;
  };
  return (
    search(
      segments.flatMap((s, i) => (s.type === PT_NOTE ? [{ offset: s.offset, size: s.filesz, align: align(i) }] : [])),
    ) ?? search(sections().flatMap((s) => (s.type === SHT_NOTE ? [{ offset: s.offset, size: s.size, align: 4 }] : [])))
  );
}

function readFunctionRanges(
  b: Bytes,
  space: AddressSpace,
  segments: ElfSegment[],
  sections: ElfSection[],
  dyn: Dynamic | undefined,
): FunctionRange[] {
  const options = {
    file: b.path,
    dataBase: one(dyn, DT.PLTGOT) ?? sections.find((s) => s.name === ".got.plt")?.addr,
    readPointer: (vaddr: number) => {
      const at = space.offset(vaddr, 8);
      return at === undefined ? undefined : b.u64(at);
    },
  };
  const section = sections.find((s) => s.name === ".eh_frame" && s.type !== SHT_NOBITS);
  if (section !== undefined) {
    const r = sectionRange(b, section);
    return parseEhFrame(b.slice(r.offset, r.end - r.offset), section.addr, { ...options, exact: true });
  }
  const hdr = segments.find((s) => s.type === PT_GNU_EH_FRAME);
  if (hdr === undefined) return [];
  b.need(hdr.offset, hdr.filesz, "PT_GNU_EH_FRAME");
  const ehFrame = ehFrameAddressFromHeader(b.slice(hdr.offset, hdr.filesz), hdr.vaddr, b.path);
  const r = ehFrame === undefined ? undefined : space.rest(ehFrame);
  if (r === undefined || ehFrame === undefined) return [];
  return parseEhFrame(b.slice(r.offset, r.end - r.offset), ehFrame, { ...options, exact: false });
}

function readInterp(b: Bytes, segments: ElfSegment[]): string | undefined {
  const s = segments.find((seg) => seg.type === PT_INTERP);
  return s === undefined ? undefined : b.cstring(s.offset, s.offset + s.filesz, "PT_INTERP");
}

/**
 * A value computed on first use and kept; a failure is kept too and thrown again at every use, so a malformed table
 * is reported the same way however often it is asked for.
 */
function lazy<T>(compute: () => T): () => T {
  let done: { value: T } | { error: unknown } | undefined;
  return () => {
    if (done === undefined) {
      try {
        done = { value: compute() };
      } catch (error) {
        done = { error };
      }
    }
    if ("error" in done) throw done.error;
    return done.value;
  };
}

/** Parses an ELF64 little-endian x86-64 executable or shared object held in memory. */
export function parseElf(bytes: Uint8Array, path: string): ElfFile {
  return parse(new Bytes(bytes, path));
}

/**
 * Parses an ELF file from a source of its bytes, reading only the pieces the loader needs until more is used (see
 * `parse`). Every piece read before the whole file must be unchanged when it is read (else E_IO).
 */
export function parseElfSource(source: ByteSource, path: string): ElfFile {
  return parse(new Bytes(source, path));
}

/**
 * What the loader needs (headers, segments, the dynamic section's strings, the interpreter, the build-id) is read
 * now; sections, symbols, relocations, init/fini arrays, .eh_frame and the code only when first used, since an object
 * whose summary comes from the cache never needs them. A format error is an E_FORMAT HomeostatError either way,
 * thrown where the data is used.
 */
function parse(b: Bytes): ElfFile {
  checkIdent(b);
  const header = parseHeader(b);
  const segments = parseSegments(b, header);
  const space = new AddressSpace(b, segments);
  const dyn = parseDynamic(b, segments);
  const strtab = dyn === undefined ? undefined : dynamicStringTable(b, space, dyn);
  let t = lazyTables(b, header, segments, space, dyn, strtab);
  // Without a dynamic section (a static executable), DT_INIT and DT_FINI are the .init and .fini sections.
  const section = (name: string): number | undefined => t.sections().find((s) => s.name === name)?.addr;
  const code = space.code();
  return {
    path: b.path,
    get bytes() {
      return b.whole();
    },
    kind: header.kind,
    entry: header.entry,
    segments,
    interp: readInterp(b, segments),
    ...dynamicStrings(b, dyn, strtab),
    init: one(dyn, DT.INIT) ?? (dyn === undefined ? section(".init") : undefined),
    fini: one(dyn, DT.FINI) ?? (dyn === undefined ? section(".fini") : undefined),
    buildId: readBuildId(b, header, segments, t.sections),
    get sections() {
      return t.sections();
    },
    get initArray() {
      return t.arrays().initArray;
    },
    get finiArray() {
      return t.arrays().finiArray;
    },
    get preinitArray() {
      return t.arrays().preinitArray;
    },
    get dynamicSymbols() {
      return t.dynamicSymbols();
    },
    get symbols() {
      return t.symbols();
    },
    get relocations() {
      return t.relocations();
    },
    get functionRanges() {
      return t.functionRanges();
    },
    read(vaddr, length) {
      const at = space.offset(vaddr, length);
      return at === undefined ? undefined : b.whole().subarray(at, at + length);
    },
    codeRanges: () => t.codeRanges(),
    isCode: (vaddr) => code.some((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.memsz),
    release() {
      b.release();
      t = lazyTables(b, header, segments, space, dyn, strtab);
    },
  };
}

/** The parts of a file parsed on first use, each once (a failure is kept and thrown again). */
function lazyTables(
  b: Bytes,
  header: Header,
  segments: ElfSegment[],
  space: AddressSpace,
  dyn: Dynamic | undefined,
  strtab: FileRange | undefined,
) {
  const sections = lazy(() => parseSections(b, header));
  // Each table reads the whole file first: tables are large, and read piece by piece would be slow.
  const whole = <T>(compute: () => T) =>
    lazy(() => {
      b.whole();
      return compute();
    });
  const dynamicSymbols = whole(() => readDynamicSymbols(b, space, sections(), dyn, strtab));
  const relocations = whole(() => readRelocations(b, space, sections(), dyn, dynamicSymbols()));
  return {
    sections,
    dynamicSymbols,
    symbols: whole(() => {
      const symtab = sections().find((s) => s.type === SHT_SYMTAB);
      return symtab === undefined ? [] : symbolSection(b, sections(), symtab, ".symtab");
    }),
    relocations,
    arrays: whole(() => readArrays(b, space, sections(), dyn, relocations())),
    functionRanges: whole(() => readFunctionRanges(b, space, segments, sections(), dyn)),
    codeRanges: whole(() =>
      space
        .code()
        .filter((s) => s.filesz > 0)
        .map((s) => ({ vaddr: s.vaddr, bytes: b.slice(s.offset, s.filesz) })),
    ),
  };
}

/** Parses every lazily read part now, so that a format error anywhere in the file is thrown here. */
export function parseElfFully(elf: ElfFile): ElfFile {
  void elf.sections;
  void elf.dynamicSymbols;
  void elf.symbols;
  void elf.relocations;
  void elf.initArray;
  void elf.functionRanges;
  elf.codeRanges();
  return elf;
}

/**
 * Reads and parses an ELF file: E_NOT_FOUND when it does not exist, E_IO when unreadable, E_FORMAT when not ours.
 * Only the pieces the loader needs are read now; the rest when first used (E_IO then if the file has changed).
 */
export function readElfFile(path: string): ElfFile {
  const source = openFileSource(path);
  try {
    return parseElfSource(source, path);
  } finally {
    source.close();
  }
}
