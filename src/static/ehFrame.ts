// Function ranges from an ELF's .eh_frame: one [pc_begin, pc_begin + pc_range) per FDE. Follows the Linux Standard
// Base Core specification (Exception Frames: .eh_frame, .eh_frame_hdr, DWARF pointer encodings) and the DWARF CIE
// layout; only what locating functions needs is decoded (call frame instructions are skipped).

import { HomeostatError } from "../errors.js";

export interface FunctionRange {
  start: number;
  end: number;
}

export interface EhFrameOptions {
  /** The object's path, for error messages. */
  file: string;
  /**
   * True when the data is exactly the .eh_frame section (its size is known): a record that does not parse is an
   * error. False when only its start is known (through .eh_frame_hdr) and the data runs to the end of the segment:
   * nothing marks the end when no zero terminator was linked in, so parsing stops at the first record that does
   * not parse.
   */
  exact: boolean;
  /** Base of DW_EH_PE_datarel pointers (the GOT on x86-64), when known; FDEs needing an unknown base are skipped. */
  dataBase?: number;
  /** Reads a pointer-sized word at a virtual address, for DW_EH_PE_indirect pointers. */
  readPointer?: (vaddr: number) => number | undefined;
}

const DW_EH_PE_omit = 0xff;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_textrel = 0x20;
const DW_EH_PE_datarel = 0x30;
const DW_EH_PE_funcrel = 0x40;
const DW_EH_PE_aligned = 0x50;
const DW_EH_PE_indirect = 0x80;

/** Bounds-checked little-endian reads over data that sits at virtual address `vaddr`. */
class Cursor {
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly vaddr: number,
    readonly file: string,
    public pos = 0,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  fail(message: string): HomeostatError {
    return new HomeostatError("E_FORMAT", `corrupt .eh_frame: ${message}`, { file: this.file });
  }

  private take(n: number): number {
    const at = this.pos;
    if (at + n > this.data.length) throw this.fail(`a read at offset ${at} runs past the end`);
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.data[this.take(1)]!;
  }
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.take(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.take(4), true);
  }
  u64(): number {
    const at = this.take(8);
    return this.view.getUint32(at, true) + this.view.getUint32(at + 4, true) * 2 ** 32;
  }
  i64(): number {
    const at = this.take(8);
    return this.view.getUint32(at, true) + this.view.getInt32(at + 4, true) * 2 ** 32;
  }

  uleb(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw this.fail("a LEB128 number longer than 10 bytes");
  }

  sleb(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 ? result - 2 ** (shift + 7) : result;
    }
    throw this.fail("a LEB128 number longer than 10 bytes");
  }

  cstring(limit: number): string {
    const end = this.data.indexOf(0, this.pos);
    if (end < 0 || end >= limit) throw this.fail(`an unterminated string at offset ${this.pos}`);
    const s = Buffer.from(this.data.buffer, this.data.byteOffset + this.pos, end - this.pos).toString("latin1");
    this.pos = end + 1;
    return s;
  }

  /** The virtual address of the byte under the cursor (the base of pc-relative pointers). */
  here(): number {
    return this.vaddr + this.pos;
  }
}

interface PointerBases {
  dataBase?: number;
  readPointer?: (vaddr: number) => number | undefined;
}

function readFormat(c: Cursor, format: number): number {
  switch (format) {
    case 0x00: // absptr: pointer-sized, 8 bytes on x86-64
    case 0x04:
      return c.u64();
    case 0x01:
      return c.uleb();
    case 0x02:
      return c.u16();
    case 0x03:
      return c.u32();
    case 0x09:
      return c.sleb();
    case 0x0a:
      return c.i16();
    case 0x0b:
      return c.i32();
    case 0x0c:
      return c.i64();
    default:
      throw c.fail(`unknown pointer encoding format 0x${format.toString(16)}`);
  }
}

/**
 * Reads one DW_EH_PE-encoded pointer. Returns undefined when its base is not known here (textrel, funcrel, a
 * datarel without a data base, an unreadable indirect pointer); the bytes are consumed either way.
 */
function readEncodedPointer(c: Cursor, encoding: number, bases: PointerBases): number | undefined {
  const application = encoding & 0x70;
  if (application === DW_EH_PE_aligned) c.pos += (8 - (c.here() % 8)) % 8;
  const fieldAddress = c.here();
  const raw = readFormat(c, encoding & 0x0f);
  let value: number | undefined;
  switch (application) {
    case 0:
    case DW_EH_PE_aligned:
      value = raw;
      break;
    case DW_EH_PE_pcrel:
      value = raw + fieldAddress;
      break;
    case DW_EH_PE_datarel:
      value = bases.dataBase === undefined ? undefined : raw + bases.dataBase;
      break;
    case DW_EH_PE_textrel:
    case DW_EH_PE_funcrel:
      value = undefined;
      break;
    default:
      throw c.fail(`unknown pointer encoding 0x${encoding.toString(16)}`);
  }
  if (value !== undefined && (encoding & DW_EH_PE_indirect) !== 0) value = bases.readPointer?.(value);
  return value;
}

/** What an FDE needs from its CIE; undefined marks a CIE whose augmentation this reader does not know. */
interface Cie {
  fdeEncoding: number;
  hasAugmentationData: boolean;
}

function parseCieBody(c: Cursor, end: number, bases: PointerBases): Cie | undefined {
  const version = c.u8();
  if (version !== 1 && version !== 3 && version !== 4) return undefined;
  const augmentation = c.cstring(end);
  if (augmentation.startsWith("eh")) c.u64(); // the old GCC "eh" augmentation carries one pointer-sized word
  if (version === 4) c.pos += 2; // address_size, segment_selector_size
  c.uleb(); // code alignment factor
  c.sleb(); // data alignment factor
  if (version === 1) c.u8();
  else c.uleb(); // return address register
  if (!augmentation.startsWith("z")) {
    return augmentation === "" || augmentation === "eh" ? { fdeEncoding: 0, hasAugmentationData: false } : undefined;
  }
  const dataLength = c.uleb();
  if (c.pos + dataLength > end) throw c.fail("CIE augmentation data runs past the record");
  return parseAugmentation(c, augmentation.slice(1), bases);
}

function parseAugmentation(c: Cursor, letters: string, bases: PointerBases): Cie | undefined {
  let fdeEncoding: number | undefined;
  for (const letter of letters) {
    if (letter === "R") fdeEncoding = c.u8();
    else if (letter === "L") c.u8();
    else if (letter === "P") readEncodedPointer(c, c.u8(), bases);
    else if (letter === "S" || letter === "B" || letter === "G") continue;
    else break; // an unknown letter: the layout of what follows is unknown, so stop here
  }
  if (fdeEncoding === undefined && letters.includes("R")) return undefined;
  return { fdeEncoding: fdeEncoding ?? 0, hasAugmentationData: true };
}

/** The [content start, end) of the record at `at`, or undefined at the zero terminator. */
function recordBounds(c: Cursor, at: number): { start: number; end: number } | undefined {
  c.pos = at;
  let length = c.u32();
  if (length === 0) return undefined;
  if (length === 0xffffffff) length = c.u64();
  const start = c.pos;
  if (length < 4 || start + length > c.data.length) throw c.fail(`the record at offset ${at} runs past the end`);
  return { start, end: start + length };
}

function cieAt(c: Cursor, at: number, cache: Map<number, Cie | undefined>, bases: PointerBases): Cie | undefined {
  if (cache.has(at)) return cache.get(at);
  const saved = c.pos;
  const bounds = recordBounds(c, at);
  if (bounds === undefined || c.u32() !== 0) throw c.fail(`an FDE points at offset ${at}, which is not a CIE`);
  const cie = parseCieBody(c, bounds.end, bases);
  if (c.pos > bounds.end) throw c.fail(`the CIE at offset ${at} runs past its record`);
  cache.set(at, cie);
  c.pos = saved;
  return cie;
}

function parseFde(c: Cursor, cie: Cie, bases: PointerBases): FunctionRange | undefined {
  const start = readEncodedPointer(c, cie.fdeEncoding, bases);
  const range = readFormat(c, cie.fdeEncoding & 0x0f); // pc_range is a length: no base applies
  return start === undefined ? undefined : { start, end: start + range };
}

/**
 * The function ranges of every FDE in `data` (the .eh_frame contents, loaded at `vaddr`), sorted by start. FDEs
 * whose CIE has an augmentation this reader does not know, or whose pointer base is unknown, are left out.
 */
export function parseEhFrame(data: Uint8Array, vaddr: number, options: EhFrameOptions): FunctionRange[] {
  const c = new Cursor(data, vaddr, options.file);
  const bases: PointerBases = { dataBase: options.dataBase, readPointer: options.readPointer };
  const cies = new Map<number, Cie | undefined>();
  const ranges: FunctionRange[] = [];
  let at = 0;
  try {
    while (at + 4 <= data.length) {
      const bounds = recordBounds(c, at);
      if (bounds === undefined) break;
      const idField = c.pos;
      const id = c.u32();
      if (id !== 0) {
        const cieOffset = idField - id;
        if (cieOffset < 0) throw c.fail(`the FDE at offset ${at} points before the section`);
        const cie = cieAt(c, cieOffset, cies, bases);
        const range = cie === undefined ? undefined : parseFde(c, cie, bases);
        if (c.pos > bounds.end) throw c.fail(`the FDE at offset ${at} runs past its record`);
        if (range !== undefined) ranges.push(range);
      }
      at = bounds.end;
    }
  } catch (err) {
    if (options.exact || !(err instanceof HomeostatError)) throw err;
  }
  return ranges.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The address of .eh_frame, from the eh_frame_ptr field of .eh_frame_hdr (loaded at `vaddr`), if encoded. */
export function ehFrameAddressFromHeader(hdr: Uint8Array, vaddr: number, file: string): number | undefined {
  const c = new Cursor(hdr, vaddr, file);
  try {
    const version = c.u8();
    const encoding = c.u8();
    c.pos = 4;
    if (version !== 1 || encoding === DW_EH_PE_omit) return undefined;
    // Per the LSB, datarel pointers in .eh_frame_hdr are relative to the start of .eh_frame_hdr.
    return readEncodedPointer(c, encoding, { dataBase: vaddr });
  } catch (err) {
    if (err instanceof HomeostatError) return undefined;
    throw err;
  }
}
