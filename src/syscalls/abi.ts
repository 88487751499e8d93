// Linux system-call ABIs: the number <-> name tables of the kernel's arch/x86/entry/syscalls/syscall_64.tbl and
// syscall_32.tbl, and the fast number -> vocabulary-id mapping that numeric parsers (ADFA-LD, raw strace) use.

import { HomeostatError } from "../errors.js";
import { I386_SYSCALLS } from "./i386.js";
import { unknownSyscallToken, type Vocabulary } from "./vocabulary.js";
import { X86_64_SYSCALLS } from "./x86_64.js";

export type AbiName = "x86_64" | "i386";

export const ABI_NAMES: readonly AbiName[] = ["x86_64", "i386"];

/** One ABI's table. `names[n]` is the syscall with number n (undefined for a gap in the table). */
export interface SyscallTable {
  readonly abi: AbiName;
  readonly names: readonly (string | undefined)[];
  numberOf(name: string): number | undefined;
}

function makeTable(abi: AbiName, entries: readonly (readonly [number, string])[]): SyscallTable {
  const names: (string | undefined)[] = [];
  const numbers = new Map<string, number>();
  for (const [n, name] of entries) {
    names[n] = name;
    if (!numbers.has(name)) numbers.set(name, n);
  }
  return { abi, names, numberOf: (name) => numbers.get(name) };
}

const TABLES: Record<AbiName, SyscallTable> = {
  x86_64: makeTable("x86_64", X86_64_SYSCALLS),
  i386: makeTable("i386", I386_SYSCALLS),
};

export function syscallTable(abi: AbiName): SyscallTable {
  return TABLES[abi];
}

export function isAbiName(s: string): s is AbiName {
  return s === "x86_64" || s === "i386";
}

/**
 * Maps an ABI's syscall numbers to ids of a vocabulary, caching each answer in a typed array so that the
 * per-call cost is one array read.
 */
export class AbiMapper {
  private cache: Int32Array;
  constructor(
    readonly table: SyscallTable,
    readonly vocab: Vocabulary,
  ) {
    this.cache = new Int32Array(Math.max(512, table.names.length)).fill(-1);
  }

  /** The vocabulary id of syscall number n of this ABI. */
  id(n: number): number {
    if (n >= 0 && n < this.cache.length && Number.isInteger(n)) {
      const c = this.cache[n]!;
      if (c >= 0) return c;
      const id = this.vocab.intern(this.table.names[n] ?? unknownSyscallToken(n));
      this.cache[n] = id;
      return id;
    }
    if (!Number.isInteger(n) || n < 0) {
      throw new HomeostatError("E_VOCAB", `syscall number ${n} is not a non-negative integer`);
    }
    return this.vocab.intern(unknownSyscallToken(n));
  }
}

// A vocabulary's ids never change once given, so one mapper per (vocabulary, ABI) serves every parser that reads
// into it: a folder of thousands of small traces builds one cache, not one per file.
const MAPPERS = new WeakMap<Vocabulary, Partial<Record<AbiName, AbiMapper>>>();

/** The shared mapper of an ABI's numbers into a vocabulary. */
export function abiMapperFor(abi: AbiName, vocab: Vocabulary): AbiMapper {
  let byAbi = MAPPERS.get(vocab);
  if (byAbi === undefined) MAPPERS.set(vocab, (byAbi = {}));
  return (byAbi[abi] ??= new AbiMapper(syscallTable(abi), vocab));
}
