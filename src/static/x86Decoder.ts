// x86-64 decoding for static analysis, through iced-x86 (Rust compiled to WebAssembly). The decoder is loaded on
// first use, so commands that never analyse a binary never pay for instantiating its WebAssembly module. Decoded
// code is kept as typed arrays (one slot per instruction), the only form the rest of the analysis reads.

import { createRequire } from "node:module";
import type * as Iced from "iced-x86";

let iced: typeof Iced | undefined;

/** The iced-x86 module, instantiated once. */
export function icedX86(): typeof Iced {
  if (iced === undefined) iced = createRequire(import.meta.url)("iced-x86") as typeof Iced;
  return iced;
}

/** What an instruction does to control flow, as the analysis needs it. */
export const enum Flow {
  Next = 0,
  Jmp = 1,
  Jcc = 2,
  Call = 3,
  Ret = 4,
  JmpIndirect = 5,
  CallIndirect = 6,
  Syscall = 7,
  /** hlt, ud2, int3, undecodable bytes: execution does not continue past it. */
  Stop = 8,
}

/** Decoded instructions of one or more code ranges, in address order. NaN marks "none" in the Float64Arrays. */
export interface DecodedCode {
  count: number;
  ip: Float64Array;
  length: Uint8Array;
  flow: Uint8Array;
  /** Target of a direct jmp, jcc or call. */
  target: Float64Array;
  /** Address of a rip-relative or absolute memory operand (a GOT slot, a table, a code address for lea). */
  memory: Float64Array;
  /** An immediate operand large enough to be an address (non-PIE code loads code pointers this way). */
  immediate: Float64Array;
  /** 1 when the memory operand is read by `lea` (an address computed, not loaded). */
  isLea: Uint8Array;
}

/** Decodes code ranges linearly (compiler output keeps data out of executable sections). */
export function decodeRanges(ranges: readonly { vaddr: number; bytes: Uint8Array }[], absolute: boolean): DecodedCode {
  const x = icedX86();
  const total = ranges.reduce((n, r) => n + r.bytes.length, 0);
  // Compiled x86-64 code averages about four bytes an instruction: start a third above that, grow if needed.
  const cap = Math.max(16, Math.ceil(total / 3));
  let out = allocate(cap);
  let n = 0;
  const ins = new x.Instruction();
  const sorted = [...ranges].sort((a, b) => a.vaddr - b.vaddr);
  try {
    for (const range of sorted) {
      const decoder = new x.Decoder(64, range.bytes, x.DecoderOptions.None);
      decoder.ip = BigInt(range.vaddr);
      try {
        // The offset is kept here rather than asked of the decoder: every property read is a call into WebAssembly.
        const size = range.bytes.length;
        for (let offset = 0; offset < size; n++) {
          decoder.decodeOut(ins);
          if (n === out.ip.length) out = grow(out, Math.ceil(n * 1.5));
          offset += record(x, ins, out, n, range.vaddr + offset, absolute, range.bytes, offset);
        }
      } finally {
        decoder.free();
      }
    }
  } finally {
    ins.free();
  }
  return trim(out, n);
}

/**
 * Records instruction n and returns its length. `absolute` also records absolute memory operands and address-sized
 * immediates: position-dependent (ET_EXEC) code takes code addresses that way, with no relocation to show it.
 * The instruction's bytes are at `offset` in `bytes`.
 */
function record(
  x: typeof Iced,
  ins: Iced.Instruction,
  out: DecodedCode,
  n: number,
  ip: number,
  absolute: boolean,
  bytes: Uint8Array,
  offset: number,
): number {
  const length = ins.length;
  out.ip[n] = ip;
  out.length[n] = length;
  out.target[n] = Number.NaN;
  out.memory[n] = Number.NaN;
  out.immediate[n] = Number.NaN;
  out.isLea[n] = 0;
  const fc = ins.flowControl;
  // The instructions told apart by their code: syscall (flow control Call), ud2 and undecodable bytes (Exception),
  // int3 (Interrupt), hlt (Next; its opcode 0xf4 is its last byte, after any prefixes). Asking the code only then
  // saves a call into WebAssembly for most instructions.
  const maybeHlt = fc === x.FlowControl.Next && bytes[offset + length - 1] === 0xf4;
  if (maybeHlt || fc === x.FlowControl.Call || fc === x.FlowControl.Exception || fc === x.FlowControl.Interrupt) {
    const code = ins.code;
    if (code === x.Code.Syscall) {
      out.flow[n] = Flow.Syscall;
      return length;
    }
    if (code === x.Code.INVALID || code === x.Code.Ud2 || code === x.Code.Hlt || code === x.Code.Int3) {
      out.flow[n] = Flow.Stop;
      return length;
    }
  }
  out.flow[n] = flowOf(x, fc);
  if (fc === x.FlowControl.UnconditionalBranch || fc === x.FlowControl.ConditionalBranch || fc === x.FlowControl.Call) {
    const kind = ins.op0Kind;
    if (kind === x.OpKind.NearBranch64 || kind === x.OpKind.NearBranch32 || kind === x.OpKind.NearBranch16) {
      out.target[n] = Number(ins.nearBranchTarget);
    } else {
      // A far or unusual branch: treat as leaving to an unknown place.
      out.flow[n] = fc === x.FlowControl.Call ? Flow.CallIndirect : Flow.JmpIndirect;
    }
    return length;
  }
  if (ins.isIpRelMemoryOperand) {
    out.memory[n] = Number(ins.ipRelMemoryAddress);
    if (ins.mnemonic === x.Mnemonic.Lea) out.isLea[n] = 1;
  } else if (absolute) {
    operands(x, ins, out, n);
  }
  return length;
}

function flowOf(x: typeof Iced, fc: Iced.FlowControl): Flow {
  switch (fc) {
    case x.FlowControl.UnconditionalBranch:
      return Flow.Jmp;
    case x.FlowControl.ConditionalBranch:
      return Flow.Jcc;
    case x.FlowControl.Call:
      return Flow.Call;
    case x.FlowControl.Return:
      return Flow.Ret;
    case x.FlowControl.IndirectBranch:
      return Flow.JmpIndirect;
    case x.FlowControl.IndirectCall:
      return Flow.CallIndirect;
    default:
      return Flow.Next;
  }
}

/** Records absolute memory operands and address-sized immediates (compiled code puts them in operand 0 or 1). */
function operands(x: typeof Iced, ins: Iced.Instruction, out: DecodedCode, n: number): void {
  const count = Math.min(2, ins.opCount);
  for (let op = 0; op < count; op++) {
    const kind = op === 0 ? ins.op0Kind : ins.op1Kind;
    if (kind === x.OpKind.Register) continue;
    if (kind === x.OpKind.Memory) {
      if (ins.memoryBase === x.Register.None && ins.memoryIndex === x.Register.None) {
        out.memory[n] = Number(ins.memoryDisplacementU64);
        if (ins.mnemonic === x.Mnemonic.Lea) out.isLea[n] = 1;
      }
    } else if (kind === x.OpKind.Immediate32 || kind === x.OpKind.Immediate32to64) {
      // The 32-bit field as a number (no BigInt); sign-extended negatives are never addresses.
      const v = ins.immediate32 >>> 0;
      if (v >= 0x1000 && (kind === x.OpKind.Immediate32 || v < 0x80000000)) out.immediate[n] = v;
    } else if (kind === x.OpKind.Immediate64) {
      const v = Number(ins.immediate(op));
      if (v >= 0x1000) out.immediate[n] = v;
    }
  }
}

function allocate(cap: number): DecodedCode {
  return {
    count: 0,
    ip: new Float64Array(cap),
    length: new Uint8Array(cap),
    flow: new Uint8Array(cap),
    target: new Float64Array(cap),
    memory: new Float64Array(cap),
    immediate: new Float64Array(cap),
    isLea: new Uint8Array(cap),
  };
}

function grow(c: DecodedCode, cap: number): DecodedCode {
  const g = allocate(cap);
  g.ip.set(c.ip);
  g.length.set(c.length);
  g.flow.set(c.flow);
  g.target.set(c.target);
  g.memory.set(c.memory);
  g.immediate.set(c.immediate);
  g.isLea.set(c.isLea);
  return g;
}

/** Views of the first n slots: a copy would double the peak, and decoded code lives only while it is summarised. */
function trim(c: DecodedCode, n: number): DecodedCode {
  return {
    count: n,
    ip: c.ip.subarray(0, n),
    length: c.length.subarray(0, n),
    flow: c.flow.subarray(0, n),
    target: c.target.subarray(0, n),
    memory: c.memory.subarray(0, n),
    immediate: c.immediate.subarray(0, n),
    isLea: c.isLea.subarray(0, n),
  };
}

/** Index of the instruction at `ip`, or -1 (binary search over the sorted addresses). */
export function indexOfIp(code: DecodedCode, ip: number): number {
  let lo = 0;
  let hi = code.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = code.ip[mid]!;
    if (v === ip) return mid;
    if (v < ip) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of the first instruction at or after `ip`. */
export function lowerBound(code: DecodedCode, ip: number): number {
  let lo = 0;
  let hi = code.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (code.ip[mid]! < ip) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Decodes the one instruction at index i again, in full, for the few questions the typed arrays do not answer
 * (which register it writes, its mnemonic); the WebAssembly objects are freed before returning. Undefined when
 * its bytes cannot be read.
 */
export function withInstruction<T>(
  code: DecodedCode,
  i: number,
  read: (ip: number, length: number) => Uint8Array | undefined,
  use: (x: typeof Iced, ins: Iced.Instruction) => T,
): T | undefined {
  const bytes = read(code.ip[i]!, code.length[i]!);
  if (bytes === undefined) return undefined;
  const x = icedX86();
  const decoder = new x.Decoder(64, bytes, x.DecoderOptions.None);
  decoder.ip = BigInt(code.ip[i]!);
  const ins = decoder.decode();
  try {
    return use(x, ins);
  } finally {
    ins.free();
    decoder.free();
  }
}
