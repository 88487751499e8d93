// Targets of a switch's indirect jump, read from its jump table. gcc's position-independent pattern is
// `lea base,[rip+T]; movslq (base,idx,4),r; add base,r; jmp *r`: each entry is a 32-bit offset from T. Reading the
// table instead of assuming "any block of the function" keeps dead code dead (ld.so's run-as-a-program branch sits
// behind one). Entries are read while they land on an instruction of the same function, which over-approximates a
// table that is followed by another (sound: extra targets only add paths).

import type * as Iced from "iced-x86";
import { type DecodedCode, Flow, withInstruction } from "./x86Decoder.js";
import { gpr } from "./registerValue.js";

const MAX_ENTRIES = 4096;
const LOOKBACK = 4;

export interface TableShape {
  /** The register holding the table's address (the base of the movslq load). */
  baseRegister: number;
  /** Local index of the movslq load, where the base register's value is asked. */
  loadAt: number;
  /** Entries, from the bounds check (`cmp idx, N; ja default`) before the load, when there is one. */
  entries?: number;
}

type Read = (ip: number, length: number) => Uint8Array | undefined;

/** Recognises the load-add-jump pattern ending at local index `jmp` (base = the function's first global index). */
export function tableShape(code: DecodedCode, base: number, jmp: number, read: Read): TableShape | undefined {
  const jumpReg = withInstruction(code, base + jmp, read, (x, ins) =>
    ins.op0Kind === x.OpKind.Register ? gpr(x, ins.op0Register) : -1,
  );
  if (jumpReg === undefined || jumpReg < 0) return undefined;
  let addBase = -1;
  for (let i = jmp - 1; i >= Math.max(0, jmp - LOOKBACK); i--) {
    if (code.flow[base + i] !== Flow.Next) return undefined;
    const shape = withInstruction(code, base + i, read, (x, ins) => classify(x, ins, jumpReg));
    if (shape === undefined) continue;
    if (shape.kind === "add") addBase = shape.other;
    else if (shape.kind === "load" && addBase >= 0 && shape.base === addBase) {
      const entries = boundOf(code, base, i, shape.index, read);
      return { baseRegister: addBase, loadAt: i, ...(entries === undefined ? {} : { entries }) };
    }
  }
  return undefined;
}

/** `cmp idx, N` then `ja` in the few instructions before the load: the table has N + 1 entries. */
function boundOf(code: DecodedCode, base: number, load: number, index: number, read: Read): number | undefined {
  let sawJa = false;
  for (let i = load - 1; i >= Math.max(0, load - LOOKBACK - 2); i--) {
    const r = withInstruction(code, base + i, read, (x, ins) => {
      if (ins.mnemonic === x.Mnemonic.Ja) return "ja";
      const isCmp =
        ins.mnemonic === x.Mnemonic.Cmp && ins.op0Kind === x.OpKind.Register && gpr(x, ins.op0Register) === index;
      if (isCmp && ins.op1Kind !== x.OpKind.Register && ins.op1Kind !== x.OpKind.Memory)
        return Number(ins.immediate(1));
      if (ins.op0Kind === x.OpKind.Register && gpr(x, ins.op0Register) === index && ins.mnemonic !== x.Mnemonic.Cmp)
        return "write";
      return undefined;
    });
    if (r === "ja") sawJa = true;
    else if (r === "write") return undefined;
    else if (typeof r === "number") return sawJa && r >= 0 && r < MAX_ENTRIES ? r + 1 : undefined;
  }
  return undefined;
}

type Shape = { kind: "add"; other: number } | { kind: "load"; base: number; index: number } | undefined;

function classify(x: typeof Iced, ins: Iced.Instruction, reg: number): Shape {
  if (ins.op0Kind !== x.OpKind.Register || gpr(x, ins.op0Register) !== reg) return undefined;
  if (ins.mnemonic === x.Mnemonic.Add && ins.op1Kind === x.OpKind.Register)
    return { kind: "add", other: gpr(x, ins.op1Register) };
  if (ins.mnemonic === x.Mnemonic.Movsxd && ins.op1Kind === x.OpKind.Memory && ins.memoryIndexScale === 4) {
    return { kind: "load", base: gpr(x, ins.memoryBase), index: gpr(x, ins.memoryIndex) };
  }
  return undefined;
}

/** The entries of a table at `table`, as target addresses, while each lands on `isTarget`. */
export function tableTargets(
  table: number,
  read: Read,
  isTarget: (ip: number) => boolean,
  entries = MAX_ENTRIES,
): number[] | undefined {
  const out: number[] = [];
  for (let k = 0; k < entries; k++) {
    const bytes = read(table + 4 * k, 4);
    if (bytes === undefined) break;
    const offset = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
    const target = table + offset;
    if (!isTarget(target)) {
      // A bounded table whose entry is not an instruction of the function is not what it seemed.
      if (entries !== MAX_ENTRIES) return undefined;
      break;
    }
    out.push(target);
  }
  return out;
}
