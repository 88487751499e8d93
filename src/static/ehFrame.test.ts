import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { ehFrameAddressFromHeader, parseEhFrame } from "./ehFrame.js";

/** Builds .eh_frame contents record by record, as a linker lays them out. */
class EhFrameBuilder {
  readonly bytes: number[] = [];

  constructor(readonly vaddr: number) {}

  get here(): number {
    return this.bytes.length;
  }

  /** A CIE; returns its offset. `augmentationData` follows the 'z' length when the augmentation starts with z. */
  cie(
    augmentation: string,
    augmentationData: (cieStart: number, dataStart: number) => number[] = () => [],
    options: { version?: number; extended?: boolean } = {},
  ): number {
    const start = this.here;
    const version = options.version ?? 1;
    const body = [0, 0, 0, 0, version, ...[...augmentation].map((c) => c.charCodeAt(0)), 0, 1, 0x78];
    body.push(version === 1 ? 16 : 16); // return address register (ubyte in v1, uleb128 in v3: same byte here)
    const header = options.extended ? 12 : 4;
    if (augmentation.startsWith("z")) {
      const data = augmentationData(start, start + header + body.length + 1);
      body.push(data.length, ...data);
    }
    body.push(0x0c, 0x07, 0x08); // DW_CFA_def_cfa rsp+8
    this.record(body, options.extended);
    return start;
  }

  /** An FDE whose pc_begin/pc_range bytes come from `encode(fieldAddress)`; returns its offset. */
  fde(
    cieOffset: number,
    encode: (fieldAddress: number) => number[],
    options: { extended?: boolean; augmentation?: number[] } = {},
  ): number {
    const start = this.here;
    const pointerField = start + (options.extended ? 12 : 4);
    const body = [...u32(pointerField - cieOffset), ...encode(this.vaddr + pointerField + 4)];
    if (options.augmentation !== undefined) body.push(options.augmentation.length, ...options.augmentation);
    this.record(body, options.extended);
    return start;
  }

  record(body: number[], extended = false): void {
    while ((body.length + (extended ? 12 : 4)) % 4 !== 0) body.push(0); // DW_CFA_nop padding
    if (extended) this.bytes.push(...u32(0xffffffff), ...u64(body.length));
    else this.bytes.push(...u32(body.length));
    this.bytes.push(...body);
  }

  terminate(): this {
    this.bytes.push(0, 0, 0, 0);
    return this;
  }

  build(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

function u16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function u64(v: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
  return [...b];
}
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

const VADDR = 0x2000;
const FILE = { file: "test.so", exact: true };

describe("parseEhFrame: pointer encodings of the LSB", () => {
  it.each([
    [
      "pcrel|sdata4 (what gcc emits)",
      0x1b,
      (at: number, start: number, len: number) => [...u32(start - at), ...u32(len)],
    ],
    ["absptr", 0x00, (_at: number, start: number, len: number) => [...u64(start), ...u64(len)]],
    ["udata4", 0x03, (_at: number, start: number, len: number) => [...u32(start), ...u32(len)]],
    ["sdata4", 0x0b, (_at: number, start: number, len: number) => [...u32(start), ...u32(len)]],
    ["udata8", 0x04, (_at: number, start: number, len: number) => [...u64(start), ...u64(len)]],
    ["sdata8", 0x0c, (_at: number, start: number, len: number) => [...u64(start), ...u64(len)]],
    ["udata2", 0x02, (_at: number, start: number, len: number) => [...u16(start), ...u16(len)]],
    ["uleb128", 0x01, (_at: number, start: number, len: number) => [...uleb(start), ...uleb(len)]],
    ["pcrel|sdata8", 0x1c, (at: number, start: number, len: number) => [...u64(start - at), ...u64(len)]],
    ["datarel|sdata4", 0x3b, (_at: number, start: number, len: number) => [...u32(start - 0x9000), ...u32(len)]],
  ])("%s", (_name, encoding, encode) => {
    const b = new EhFrameBuilder(VADDR);
    const cie = b.cie("zR", () => [encoding]);
    b.fde(cie, (at) => encode(at, 0x1130, 0x20));
    b.fde(cie, (at) => encode(at, 0x1100, 0x10));
    const ranges = parseEhFrame(b.terminate().build(), VADDR, { ...FILE, dataBase: 0x9000 });
    expect(ranges).toEqual([
      { start: 0x1100, end: 0x1110 },
      { start: 0x1130, end: 0x1150 },
    ]);
  });

  it("skips FDEs whose datarel base is unknown, and textrel/funcrel ones", () => {
    const b = new EhFrameBuilder(VADDR);
    const datarel = b.cie("zR", () => [0x3b]);
    b.fde(datarel, () => [...u32(0x100), ...u32(8)]);
    const textrel = b.cie("zR", () => [0x2b]);
    b.fde(textrel, () => [...u32(0x100), ...u32(8)]);
    const ok = b.cie("zR", () => [0x03]);
    b.fde(ok, () => [...u32(0x4000), ...u32(8)]);
    expect(parseEhFrame(b.build(), VADDR, FILE)).toEqual([{ start: 0x4000, end: 0x4008 }]);
  });

  it("an indirect pointer is read through the image", () => {
    const b = new EhFrameBuilder(VADDR);
    const cie = b.cie("zR", () => [0x83]); // indirect|udata4
    b.fde(cie, () => [...u32(0x7000), ...u32(12)]);
    const readPointer = (vaddr: number) => (vaddr === 0x7000 ? 0x1234 : undefined);
    expect(parseEhFrame(b.build(), VADDR, { ...FILE, readPointer })).toEqual([{ start: 0x1234, end: 0x1240 }]);
  });

  it('"zPLR": a personality pointer and LSDA encoding before R, and FDE augmentation data', () => {
    const b = new EhFrameBuilder(VADDR);
    const cie = b.cie("zPLR", (_start, dataStart) => {
      const personalityField = VADDR + dataStart + 1;
      return [0x9b, ...u32(0x8000 - personalityField), 0x1b, 0x1b]; // P: indirect|pcrel|sdata4, L, R
    });
    b.fde(cie, (at) => [...u32(0x1500 - at), ...u32(0x40)], { augmentation: [0, 0, 0, 0] });
    expect(parseEhFrame(b.terminate().build(), VADDR, FILE)).toEqual([{ start: 0x1500, end: 0x1540 }]);
  });

  it('CIEs without augmentation data ("") use absptr; version 3 CIEs; the 64-bit length form', () => {
    const b = new EhFrameBuilder(VADDR);
    const plain = b.cie("");
    b.fde(plain, () => [...u64(0x3000), ...u64(0x30)]);
    const v3 = b.cie("zR", () => [0x03], { version: 3, extended: true });
    b.fde(v3, () => [...u32(0x3100), ...u32(0x10)], { extended: true, augmentation: [] });
    expect(parseEhFrame(b.terminate().build(), VADDR, FILE)).toEqual([
      { start: 0x3000, end: 0x3030 },
      { start: 0x3100, end: 0x3110 },
    ]);
  });

  it("stops at the zero terminator; a CIE with an unknown augmentation is skipped with its FDEs", () => {
    const b = new EhFrameBuilder(VADDR);
    const odd = b.cie("xyz");
    b.fde(odd, () => [...u64(0x5000), ...u64(4)]);
    const cie = b.cie("zR", () => [0x03]);
    b.fde(cie, () => [...u32(0x6000), ...u32(4)]);
    b.terminate();
    b.bytes.push(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4);
    expect(parseEhFrame(b.build(), VADDR, FILE)).toEqual([{ start: 0x6000, end: 0x6004 }]);
  });
});

describe("parseEhFrame: malformed data", () => {
  function sample(): EhFrameBuilder {
    const b = new EhFrameBuilder(VADDR);
    const cie = b.cie("zR", () => [0x1b]);
    b.fde(cie, (at) => [...u32(0x1000 - at), ...u32(0x10)]);
    return b;
  }

  it("exact: a record past the end, or an FDE pointing at no CIE, is E_FORMAT naming the file", () => {
    const cut = sample().build();
    expect(() => parseEhFrame(cut.subarray(0, cut.length - 3), VADDR, FILE)).toThrow(
      expect.objectContaining({ code: "E_FORMAT", location: { file: "test.so" } }),
    );
    const b = new EhFrameBuilder(VADDR);
    const cie = b.cie("zR", () => [0x03]);
    const fde = b.fde(cie, () => [...u32(0x1000), ...u32(0x10)]);
    b.fde(fde, () => [...u32(0), ...u32(0)]); // points at the previous FDE
    expect(() => parseEhFrame(b.build(), VADDR, FILE)).toThrow(/not a CIE/);
  });

  it("inexact (only the start is known): parsing stops at the first record that does not parse", () => {
    const b = sample();
    b.bytes.push(0x55, 0x48, 0x89, 0xe5, 0xff, 0xff); // code after .eh_frame, no terminator
    expect(parseEhFrame(b.build(), VADDR, { file: "x", exact: false })).toEqual([{ start: 0x1000, end: 0x1010 }]);
  });

  it("random bytes never throw anything but HomeostatError, and terminate", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.boolean(), (bytes, exact) => {
        try {
          for (const r of parseEhFrame(bytes, VADDR, { file: "fuzz", exact })) expect(typeof r.start).toBe("number");
        } catch (err) {
          if (!(err instanceof HomeostatError)) throw err;
        }
      }),
      { numRuns: 500 },
    );
  });

  it("random mutations of a valid .eh_frame never throw anything but HomeostatError", () => {
    const valid = sample().terminate().build();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (edits) => {
          const bytes = new Uint8Array(valid);
          for (const [at, v] of edits) bytes[at] = v;
          try {
            parseEhFrame(bytes, VADDR, FILE);
          } catch (err) {
            if (!(err instanceof HomeostatError)) throw err;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("ehFrameAddressFromHeader", () => {
  it("decodes eh_frame_ptr relative to its field (pcrel) or to .eh_frame_hdr (datarel)", () => {
    const hdrAt = 0x1f000;
    expect(ehFrameAddressFromHeader(new Uint8Array([1, 0x1b, 0x03, 0x3b, ...u32(0x200 - 4)]), hdrAt, "f")).toBe(
      hdrAt + 0x200,
    );
    expect(ehFrameAddressFromHeader(new Uint8Array([1, 0x3b, 0x03, 0x3b, ...u32(0x300)]), hdrAt, "f")).toBe(
      hdrAt + 0x300,
    );
    expect(ehFrameAddressFromHeader(new Uint8Array([1, 0xff, 0x03, 0x3b]), hdrAt, "f")).toBeUndefined();
    expect(ehFrameAddressFromHeader(new Uint8Array([2, 0x1b, 0x03, 0x3b, 0, 0, 0, 0]), hdrAt, "f")).toBeUndefined();
    expect(ehFrameAddressFromHeader(new Uint8Array([1, 0x1b]), hdrAt, "f")).toBeUndefined();
  });
});
