// One object's decoded code as the analysis passes it between stages (decoded instructions, function map, relocated
// slots, dead edges, noreturn functions, data regions), and what a call through one of its slots may reach.

import type { ElfFile } from "./elfFile.js";
import type { DeadEdges, NoReturn } from "./functionCfg.js";
import { functionAt, type FunctionMap } from "./functionMap.js";
import type { RegionMap } from "./dataRegions.js";
import type { Ref } from "./summaryBuilder.js";
import type { SlotTarget } from "./relocationSlots.js";
import type { DecodedCode } from "./x86Decoder.js";

export interface ObjectCode {
  elf: ElfFile;
  code: DecodedCode;
  map: FunctionMap;
  slots: Map<number, SlotTarget>;
  dead: DeadEdges;
  noReturn: NoReturn;
  regions: RegionMap;
}

/** Where a slot-relocated pointer points: a symbol, or a local function. */
export function refOfSlot(map: FunctionMap, t: SlotTarget): Ref | undefined {
  if (t.symbol !== undefined) return t.symbol;
  if (t.local !== undefined) {
    const f = functionAt(map, t.local);
    return f >= 0 ? f : undefined;
  }
  return undefined;
}

/** Callees of a call or jmp through memory at global index g: the slot's relocation target, when fixed. */
export function memoryCallRefs(obj: ObjectCode, g: number): { refs: Ref[]; indirect: boolean } {
  const m = obj.code.memory[g]!;
  if (Number.isNaN(m)) return { refs: [], indirect: true };
  const t = obj.slots.get(m);
  if (t === undefined) return { refs: [], indirect: true };
  const r = refOfSlot(obj.map, t);
  return { refs: r === undefined ? [] : [r], indirect: t.writable };
}
