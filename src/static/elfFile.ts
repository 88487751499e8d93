// A read-only parser of ELF64 little-endian x86-64 executables and shared objects: the ElfFile that composes the
// parts parsed by elfHeaders.ts (ELF header, segments, PT_INTERP), elfSections.ts, elfDynamic.ts (needed libraries,
// search paths), elfNotes.ts (the GNU build-id), elfSymbols.ts, elfRelocations.ts, elfInitArrays.ts and
// elfFunctionRanges.ts (.eh_frame, through ehFrame.ts), over the bounds-checked reads of elfBytes.ts. Follows the
// System V gABI (ELF-64 object file format) and the x86-64 psABI; the LSB for .eh_frame. Every read is bounds-checked,
// so a malformed file fails with an E_FORMAT HomeostatError, never with a RangeError. What the loader needs is parsed
// at once; the tables only the analysis of an object's code reads are parsed when first used, since an object whose
// summary is cached never needs them.

import { Bytes, type FileRange } from "./elfBytes.js";
import { DT, type Dynamic, dynamicStrings, dynamicStringTable, one, parseDynamic } from "./elfDynamic.js";
import { readFunctionRanges } from "./elfFunctionRanges.js";
import {
  AddressSpace,
  checkIdent,
  type ElfSegment,
  type Header,
  parseHeader,
  parseSegments,
  readInterp,
} from "./elfHeaders.js";
import { readArrays } from "./elfInitArrays.js";
import { readBuildId } from "./elfNotes.js";
import { type ElfRelocation, readRelocations } from "./elfRelocations.js";
import { type ElfSection, parseSections } from "./elfSections.js";
import { type ElfSymbol, readDynamicSymbols, readSymbols } from "./elfSymbols.js";
import type { FunctionRange } from "./ehFrame.js";
import { type ByteSource, openFileSource } from "./fileSource.js";

export type { FunctionRange } from "./ehFrame.js";
export type { ElfSegment } from "./elfHeaders.js";
export type { ElfSection } from "./elfSections.js";
export type { ElfSymbol } from "./elfSymbols.js";
export type { ElfRelocation } from "./elfRelocations.js";

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
  const code = space.code();
  return {
    path: b.path,
    get bytes() {
      return b.whole();
    },
    kind: header.kind,
    entry: header.entry,
    segments,
    ...loaderFacts(b, header, segments, dyn, strtab, t.sections),
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

/**
 * What the loader reads at once besides the headers and segments, in this order: PT_INTERP, the dynamic section's
 * strings, DT_INIT and DT_FINI, the build-id. `sections` is called only for a file without a dynamic section (its
 * .init and .fini) or without a build-id in its PT_NOTE segments.
 */
function loaderFacts(
  b: Bytes,
  header: Header,
  segments: ElfSegment[],
  dyn: Dynamic | undefined,
  strtab: FileRange | undefined,
  sections: () => ElfSection[],
): Pick<ElfFile, "interp" | "needed" | "rpath" | "runpath" | "soname" | "init" | "fini" | "buildId"> {
  // Without a dynamic section (a static executable), DT_INIT and DT_FINI are the .init and .fini sections.
  const section = (name: string): number | undefined => sections().find((s) => s.name === name)?.addr;
  return {
    interp: readInterp(b, segments),
    ...dynamicStrings(b, dyn, strtab),
    init: one(dyn, DT.INIT) ?? (dyn === undefined ? section(".init") : undefined),
    fini: one(dyn, DT.FINI) ?? (dyn === undefined ? section(".fini") : undefined),
    buildId: readBuildId(b, header, segments, sections),
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
    symbols: whole(() => readSymbols(b, sections())),
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
