// The GNU build-id of an ELF64 file (NT_GNU_BUILD_ID, lowercase hex), from its notes: the PT_NOTE segments, else the
// SHT_NOTE sections. Follows the System V gABI (Note Section) and the GNU note types of binutils and glibc.

import type { Bytes } from "./elfBytes.js";
import { type ElfSegment, type Header, PT_NOTE } from "./elfHeaders.js";
import { type ElfSection, SHT_NOTE } from "./elfSections.js";

const NT_GNU_BUILD_ID = 3;

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
export function readBuildId(
  b: Bytes,
  h: Header,
  segments: ElfSegment[],
  sections: () => ElfSection[],
): string | undefined {
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
