// System-call names as strace prints them, turned into vocabulary ids straight from the bytes, and the few names
// the parser must recognise (execve/execveat for exec notes, the fork family for child pids).

import { unknownSyscallToken, type Vocabulary } from "../syscalls/vocabulary.js";
import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, hexValue } = byteScan;

/** Longest syscall name accepted (strace's longest is under 32 bytes). */
export const MAX_NAME = 64;

/** Interns syscall names; a number strace has no name for (`syscall_0x1c3`) becomes the token `syscall_451`. */
export class StraceSyscallIds {
  private unknownIds: Map<number, number> | undefined;

  constructor(private readonly vocab: Vocabulary) {}

  /** The vocabulary id of the name b[start, end). */
  id(b: Uint8Array, start: number, end: number): number {
    if (end - start > 10 && b[start + 7] === 0x5f && asciiAt(b, start, end, "syscall_0x")) {
      const n = hexNumber(b, start + 10, end);
      if (n >= 0) return this.unknownId(n);
    }
    return this.vocab.internBytes(b, start, end);
  }

  private unknownId(n: number): number {
    this.unknownIds ??= new Map();
    let id = this.unknownIds.get(n);
    if (id === undefined) {
      id = this.vocab.intern(unknownSyscallToken(n));
      this.unknownIds.set(n, id);
    }
    return id;
  }
}

/** The hex digits b[start, end) (at most 13) as a number, or -1. */
function hexNumber(b: Uint8Array, start: number, end: number): number {
  if (end - start > 13) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const x = hexValue(b[i]!);
    if (x < 0) return -1;
    n = n * 16 + x;
  }
  return n;
}

/** Whether the name is execve or execveat. */
export function isExecName(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len !== 6 && len !== 8) return false;
  if (!asciiAt(b, start, end, "execve")) return false;
  return len === 6 || asciiAt(b, start + 6, end, "at");
}

/** Whether the name is one of the calls that return a child's pid: clone, clone3, fork, vfork. */
export function isForkName(b: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  return (
    (len === 5 && (asciiAt(b, start, end, "clone") || asciiAt(b, start, end, "vfork"))) ||
    (len === 6 && asciiAt(b, start, end, "clone3")) ||
    (len === 4 && asciiAt(b, start, end, "fork"))
  );
}
