// Backward value analysis of one register at one instruction, over the function's control-flow graph: every path
// back from the instruction is followed to the instruction that last wrote the register. A path that ends at a
// constant load gives that constant; at a register copy it continues with the source register; at the function's
// entry in an argument register it gives "parameter k" (the caller knows the value: the `syscall()` wrapper); at
// anything else (a load from memory, arithmetic, a call's result) the value is unknown. This is what resolves the
// number of a `syscall` instruction (Wagner & Dean need it to build any model); a fixed window back from the site
// misses numbers that flow through a jump.

import type * as Iced from "iced-x86";
import type { FunctionCfg } from "./functionCfg.js";
import { type DecodedCode, Flow, withInstruction } from "./x86Decoder.js";

export interface RegisterValues {
  constants: Set<number>;
  /** Argument indices (0 = rdi) whose value at entry reaches the instruction. */
  params: Set<number>;
  unknown: boolean;
  /** Some unknown path ended at a load from memory (glibc's setxid broadcast takes its number that way). */
  fromMemory: boolean;
}

/** General-purpose registers by x86 encoding number: rax 0, rcx 1, rdx 2, rbx 3, rsp 4, rbp 5, rsi 6, rdi 7, r8-r15. */
export const RAX = 0;
export const ARGUMENT_REGISTERS: readonly number[] = [7, 6, 2, 1, 8, 9];
const CALLER_SAVED = new Set([0, 1, 2, 6, 7, 8, 9, 10, 11]);
const SYSCALL_CLOBBERS = new Set([0, 1, 11]);
const STEP_BUDGET = 4096;

/** Reads one instruction's bytes: (address) -> up to 15 bytes, or undefined. */
export type CodeReader = (ip: number, length: number) => Uint8Array | undefined;

/** The values `register` may hold just before local instruction `at` executes. */
export function registerValuesBefore(
  code: DecodedCode,
  cfg: FunctionCfg,
  read: CodeReader,
  at: number,
  register: number,
): RegisterValues {
  const result: RegisterValues = { constants: new Set(), params: new Set(), unknown: false, fromMemory: false };
  const seen = new Set<number>();
  const work: number[] = [];
  const pushPreds = (i: number, reg: number): void => {
    if (i === 0) {
      const k = ARGUMENT_REGISTERS.indexOf(reg);
      if (k >= 0) result.params.add(k);
      else result.unknown = true;
    }
    for (let p = cfg.predStart[i]!; p < cfg.predStart[i + 1]!; p++) {
      const key = cfg.pred[p]! * 16 + reg;
      if (!seen.has(key)) {
        seen.add(key);
        work.push(key);
      }
    }
  };
  pushPreds(at, register);
  let steps = 0;
  while (work.length > 0) {
    if (++steps > STEP_BUDGET) {
      result.unknown = true;
      break;
    }
    const key = work.pop()!;
    const i = Math.floor(key / 16);
    const reg = key % 16;
    const effect = effectOn(code, cfg.base + i, read, reg);
    if (effect.kind === "none") pushPreds(i, reg);
    else if (effect.kind === "copy") pushPreds(i, effect.from);
    else if (effect.kind === "constant") result.constants.add(effect.value);
    else {
      result.unknown = true;
      if (effect.kind === "memory") result.fromMemory = true;
    }
  }
  return result;
}

type Effect =
  | { kind: "none" }
  | { kind: "constant"; value: number }
  | { kind: "copy"; from: number }
  | { kind: "memory" }
  | { kind: "unknown" };

const NONE: Effect = { kind: "none" };
const UNKNOWN: Effect = { kind: "unknown" };

/** What instruction g does to register `reg`. */
function effectOn(code: DecodedCode, g: number, read: CodeReader, reg: number): Effect {
  const flow = code.flow[g]!;
  if (flow === Flow.Call || flow === Flow.CallIndirect) return CALLER_SAVED.has(reg) ? UNKNOWN : NONE;
  if (flow === Flow.Syscall) return SYSCALL_CLOBBERS.has(reg) ? UNKNOWN : NONE;
  if (flow !== Flow.Next) return NONE;
  const w = writesOf(code, g, read);
  if (w === undefined) return UNKNOWN;
  if (reg === w.target && w.effect !== undefined) return w.effect;
  return (w.mask & (1 << reg)) !== 0 ? UNKNOWN : NONE;
}

/**
 * What one instruction writes, for every register at once: the general-purpose registers it writes (a bit each),
 * and for `mov`/`xor`/`lea` into a register, the value it gives that register.
 */
interface Writes {
  mask: number;
  /** The register a recognised form writes (-1: none), and what it puts there. */
  target: number;
  effect: Effect | undefined;
}

/**
 * Each instruction's writes, worked out once per decoded object: a backward walk asks about the same instructions
 * many times (for each register, each switch round, each site of a function), and every answer decodes again.
 */
const writesCache = new WeakMap<DecodedCode, Map<number, Writes | undefined>>();

function writesOf(code: DecodedCode, g: number, read: CodeReader): Writes | undefined {
  let known = writesCache.get(code);
  if (known === undefined) writesCache.set(code, (known = new Map()));
  if (known.has(g)) return known.get(g);
  const w = withInstruction(code, g, read, classify);
  known.set(g, w);
  return w;
}

let infoFactory: Iced.InstructionInfoFactory | undefined;

function classify(x: typeof Iced, ins: Iced.Instruction): Writes {
  const special = ins.opCount === 2 && ins.op0Kind === x.OpKind.Register ? recognised(x, ins) : undefined;
  infoFactory ??= new x.InstructionInfoFactory();
  const info = infoFactory.info(ins);
  let mask = 0;
  try {
    for (const used of info.usedRegisters() as Iced.UsedRegister[]) {
      const writes = used.access !== x.OpAccess.Read && used.access !== x.OpAccess.CondRead;
      const r = gpr(x, used.register);
      used.free();
      if (writes && r >= 0) mask |= 1 << r;
    }
  } finally {
    info.free();
  }
  return { mask, target: special === undefined ? -1 : gpr(x, ins.op0Register), effect: special };
}

/** The value a `mov` (32 or 64 bits), `xor r, r` or rip-relative `lea` (64 bits) puts in its register operand 0. */
function recognised(x: typeof Iced, ins: Iced.Instruction): Effect | undefined {
  const m = ins.mnemonic;
  const width = widthOf(x, ins.op0Register);
  if (m === x.Mnemonic.Mov && width >= 32) {
    const k1 = ins.op1Kind;
    if (k1 === x.OpKind.Register) {
      const src = gpr(x, ins.op1Register);
      return src >= 0 ? { kind: "copy", from: src } : UNKNOWN;
    }
    if (isImmediate(x, k1)) return { kind: "constant", value: Number(BigInt.asIntN(width, ins.immediate(1))) };
    if (k1 === x.OpKind.Memory) return { kind: "memory" };
  }
  if (m === x.Mnemonic.Xor && ins.op1Kind === x.OpKind.Register && ins.op1Register === ins.op0Register) {
    return { kind: "constant", value: 0 };
  }
  if (m === x.Mnemonic.Lea && width === 64 && ins.isIpRelMemoryOperand) {
    return { kind: "constant", value: Number(ins.ipRelMemoryAddress) };
  }
  return undefined;
}

function isImmediate(x: typeof Iced, k: Iced.OpKind): boolean {
  return (
    k === x.OpKind.Immediate8 ||
    k === x.OpKind.Immediate16 ||
    k === x.OpKind.Immediate32 ||
    k === x.OpKind.Immediate64 ||
    k === x.OpKind.Immediate8to32 ||
    k === x.OpKind.Immediate8to64 ||
    k === x.OpKind.Immediate32to64
  );
}

/** The general-purpose register (0-15) a register operand is part of, or -1. */
export function gpr(x: typeof Iced, r: Iced.Register): number {
  if (r >= x.Register.AL && r <= x.Register.R15L) return lowByte(x, r);
  if (r >= x.Register.AX && r <= x.Register.R15W) return r - x.Register.AX;
  if (r >= x.Register.EAX && r <= x.Register.R15D) return r - x.Register.EAX;
  if (r >= x.Register.RAX && r <= x.Register.R15) return r - x.Register.RAX;
  return -1;
}

function lowByte(x: typeof Iced, r: Iced.Register): number {
  // iced's byte registers: AL CL DL BL AH CH DH BH SPL BPL SIL DIL R8L..R15L.
  const i = r - x.Register.AL;
  if (i < 4) return i;
  if (i < 8) return i - 4;
  return i - 4;
}

function widthOf(x: typeof Iced, r: Iced.Register): number {
  if (r >= x.Register.RAX && r <= x.Register.R15) return 64;
  if (r >= x.Register.EAX && r <= x.Register.R15D) return 32;
  if (r >= x.Register.AX && r <= x.Register.R15W) return 16;
  return 8;
}
