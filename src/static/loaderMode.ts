// The dynamic loader has two modes: interpreter of a program (the kernel starts it with AT_ENTRY pointing at the
// program's entry) and program of its own (`ld.so ./prog`, where AT_ENTRY is ld.so's own entry point). Only the
// second mode re-executes a program, so `execve` is in ld.so's code. glibc tells the modes apart by comparing the
// entry point it was given with its own (`if (*user_entry == ENTRY_POINT)` in rtld.c's dl_main). For a program
// that names ld.so as its interpreter that comparison is false, so the branch taken on equality is dead: this module
// finds those branches (a `lea` of ld.so's own entry address, compared, then je/jne) and names their dead edge.

import type { ElfFile } from "./elfFile.js";
import { type DecodedCode, Flow, withInstruction } from "./x86Decoder.js";
import { gpr } from "./registerValue.js";

const WINDOW = 12;

/** Map from a conditional branch's index in `code` to the address of its successor that is dead. */
export function loaderModeEdges(elf: ElfFile, code: DecodedCode): Map<number, number> {
  const read = (ip: number, n: number): Uint8Array | undefined => elf.read(ip, n);
  const dead = new Map<number, number>();
  const entry = elf.entry;
  for (let i = 0; i < code.count; i++) {
    if (code.isLea[i] !== 1 || code.memory[i] !== entry) continue;
    const reg = withInstruction(code, i, read, (x, ins) =>
      ins.op0Kind === x.OpKind.Register ? gpr(x, ins.op0Register) : -1,
    );
    if (reg === undefined || reg < 0) continue;
    const branch = comparedBranch(elf, code, i, reg);
    if (branch !== undefined) dead.set(branch.index, branch.deadIp);
  }
  return dead;
}

/** After a lea into `reg`: a cmp using `reg` then a je/jne, in straight-line code. */
function comparedBranch(
  elf: ElfFile,
  code: DecodedCode,
  lea: number,
  reg: number,
): { index: number; deadIp: number } | undefined {
  const read = (ip: number, n: number): Uint8Array | undefined => elf.read(ip, n);
  let compared = false;
  for (let j = lea + 1; j < Math.min(code.count, lea + WINDOW); j++) {
    const flow = code.flow[j]!;
    if (flow === Flow.Jcc && compared) {
      const kind = withInstruction(code, j, read, (x, ins) =>
        ins.mnemonic === x.Mnemonic.Je ? "je" : ins.mnemonic === x.Mnemonic.Jne ? "jne" : "other",
      );
      if (kind === "je") return { index: j, deadIp: code.target[j]! };
      if (kind === "jne") return { index: j, deadIp: code.ip[j]! + code.length[j]! };
      return undefined;
    }
    if (flow !== Flow.Next) return undefined;
    const effect = withInstruction(code, j, read, (x, ins) => {
      const usesReg = [0, 1].some((op) => ins.opKind(op) === x.OpKind.Register && gpr(x, ins.opRegister(op)) === reg);
      if (ins.mnemonic === x.Mnemonic.Cmp && usesReg) return "cmp";
      if (ins.opCount > 0 && ins.op0Kind === x.OpKind.Register && gpr(x, ins.op0Register) === reg) return "clobber";
      return "other";
    });
    if (effect === "cmp") compared = true;
    else if (effect === "clobber" || (compared && effect === "other" && writesFlags(elf, code, j))) return undefined;
  }
  return undefined;
}

function writesFlags(elf: ElfFile, code: DecodedCode, j: number): boolean {
  const read = (ip: number, n: number): Uint8Array | undefined => elf.read(ip, n);
  return withInstruction(code, j, read, (x, ins) => ins.rflagsModified !== x.RflagsBits.None) !== false;
}
