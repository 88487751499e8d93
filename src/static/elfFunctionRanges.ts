// Function ranges of an ELF64 file from its unwind tables: finds .eh_frame (the section, else through
// PT_GNU_EH_FRAME's .eh_frame_hdr when the section headers are stripped) and parses it with ehFrame.ts, with the
// bases its pointer encodings need (the GOT for datarel, pointer reads for indirect). Follows the Linux Standard Base
// Core specification (Exception Frames) and the System V gABI for the segment and section it reads.

import type { Bytes } from "./elfBytes.js";
import { DT, type Dynamic, one } from "./elfDynamic.js";
import { type AddressSpace, type ElfSegment, PT_GNU_EH_FRAME } from "./elfHeaders.js";
import { type ElfSection, sectionRange, SHT_NOBITS } from "./elfSections.js";
import { ehFrameAddressFromHeader, parseEhFrame, type FunctionRange } from "./ehFrame.js";

/** One range per .eh_frame FDE, sorted by start; [] when the file has no .eh_frame. */
export function readFunctionRanges(
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
