// Reads the few facts an exploit needs from a 64-bit little-endian ELF file: symbol addresses (.symtab and
// .dynsym) and the GOT slot of each imported function (.rela.plt). Follows the System V gABI ELF-64 layout.
// Used by the demo exploit only; it is not a general ELF library.

import { readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

export interface ElfInfo {
  /** Defined symbols (functions and objects) by name, without version suffix; first definition wins. */
  symbols: Map<string, bigint>;
  /** Imported function name -> address of its GOT slot (R_X86_64_JUMP_SLOT relocations). */
  gotSlots: Map<string, bigint>;
}

const SHT_SYMTAB = 2;
const SHT_RELA = 4;
const SHT_DYNSYM = 11;

interface Section {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString("latin1", at, end < 0 ? buf.length : end);
}

export function readElf(file: string): ElfInfo {
  const buf = readElfFile(file);
  const sections = sectionHeaders(buf, file);
  const { symbols, dynNames } = symbolTables(buf, sections);
  return { symbols, gotSlots: gotSlots(buf, sections, dynNames) };
}

/** The file's bytes, if it is a 64-bit little-endian ELF file. */
function readElfFile(file: string): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new HomeostatError("E_IO", `cannot read ${file}`, { file }, { cause: err });
  }
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) {
    throw new HomeostatError("E_FORMAT", "not a 64-bit little-endian ELF file", { file });
  }
  return buf;
}

/** The section headers, named from the section name table. */
function sectionHeaders(buf: Buffer, file: string): Section[] {
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  if (shoff === 0 || shoff + shnum * shentsize > buf.length) {
    throw new HomeostatError("E_FORMAT", "ELF file has no readable section headers", { file });
  }
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(at),
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
      link: buf.readUInt32LE(at + 0x28),
      entsize: Number(buf.readBigUInt64LE(at + 0x38)),
    });
  }
  const strtab = raw[shstrndx];
  if (strtab === undefined) throw new HomeostatError("E_FORMAT", "ELF section name table missing", { file });
  return raw.map((s) => ({ ...s, name: cString(buf, strtab.offset + s.nameOff) }));
}

/** Defined symbols of .symtab and .dynsym, and .dynsym's names by index (for the relocations). */
function symbolTables(buf: Buffer, sections: Section[]): { symbols: Map<string, bigint>; dynNames: string[] } {
  const symbols = new Map<string, bigint>();
  const dynNames: string[] = [];
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB && s.type !== SHT_DYNSYM) continue;
    const names = sections[s.link];
    if (names === undefined) continue;
    const n = Math.floor(s.size / 24);
    for (let i = 0; i < n; i++) {
      const at = s.offset + i * 24;
      const name = cString(buf, names.offset + buf.readUInt32LE(at));
      const shndx = buf.readUInt16LE(at + 6);
      const value = buf.readBigUInt64LE(at + 8);
      if (s.type === SHT_DYNSYM) dynNames[i] = name;
      if (name === "" || shndx === 0 || symbols.has(name)) continue;
      symbols.set(name, value);
    }
  }
  return { symbols, dynNames };
}

/** The GOT slot of each imported function, from .rela.plt. */
function gotSlots(buf: Buffer, sections: Section[], dynNames: string[]): Map<string, bigint> {
  const slots = new Map<string, bigint>();
  const relaPlt = sections.find((s) => s.type === SHT_RELA && s.name === ".rela.plt");
  if (relaPlt === undefined) return slots;
  const n = Math.floor(relaPlt.size / 24);
  for (let i = 0; i < n; i++) {
    const at = relaPlt.offset + i * 24;
    const info = buf.readBigUInt64LE(at + 8);
    const name = dynNames[Number(info >> 32n)];
    if (name !== undefined && name !== "") slots.set(name, buf.readBigUInt64LE(at));
  }
  return slots;
}
