// Whether a vocabulary was learnt on another ABI than the one a live program runs on. A profile trained on ADFA-LD
// (i386 names: mmap2, stat64, _llseek, socketcall) and scored against an x86_64 program sees every call of the
// program's own ABI as never seen, and alarms within a few calls with nothing saying why. Profiles do not record
// the ABI of their traces, so the vocabulary's names are the evidence: a name only another ABI's kernel table has
// cannot come from a trace of this one, and a vocabulary mostly outside the live table (UNM's opaque `#12` symbols)
// cannot describe its calls either.

import { ABI_NAMES, type AbiName, syscallTable } from "./abi.js";
import { canonicalSyscallName } from "./aliases.js";

/** Share of a vocabulary's names only another ABI has from which it looks like that ABI. */
const OTHER_ABI_SHARE = 0.05;
/** Share of a vocabulary's names the live ABI lacks from which it does not describe that ABI's calls. */
const FOREIGN_SHARE = 0.5;

export interface AbiMismatch {
  /** The ABI the vocabulary looks like, when its names point at one. */
  likely?: AbiName;
  /** Names the live ABI's table lacks, in vocabulary order. */
  foreign: string[];
  /** Names only `likely` has (a subset of `foreign`); empty without `likely`. */
  otherOnly: string[];
  /** Names weighed: every token but the unknown-number ones (`syscall_451`), which name no ABI. */
  weighed: number;
}

const UNKNOWN_NUMBER = /^syscall_[0-9]+$/;

/**
 * How `names` (a profile's vocabulary) fail to fit the `live` ABI, or undefined when they fit: when at least 5% of
 * them exist only in another ABI's table, or at least half are in no table of the live ABI.
 */
export function abiMismatch(names: readonly string[], live: AbiName): AbiMismatch | undefined {
  const liveTable = syscallTable(live);
  const weighedNames = names.filter((n) => !UNKNOWN_NUMBER.test(n));
  if (weighedNames.length === 0) return undefined;
  const known = (name: string, abi: AbiName): boolean =>
    syscallTable(abi).numberOf(canonicalSyscallName(name, abi)) !== undefined;
  const foreign = weighedNames.filter((n) => liveTable.numberOf(canonicalSyscallName(n, live)) === undefined);
  for (const other of ABI_NAMES) {
    if (other === live) continue;
    const otherOnly = foreign.filter((n) => known(n, other));
    if (otherOnly.length > 0 && otherOnly.length >= OTHER_ABI_SHARE * weighedNames.length) {
      return { likely: other, foreign, otherOnly, weighed: weighedNames.length };
    }
  }
  if (foreign.length >= FOREIGN_SHARE * weighedNames.length) {
    return { foreign, otherOnly: [], weighed: weighedNames.length };
  }
  return undefined;
}

/** The ABI of programs this process's machine runs natively, when homeostat has its table. */
export function nativeAbi(arch: string = process.arch): AbiName | undefined {
  if (arch === "x64") return "x86_64";
  if (arch === "ia32") return "i386";
  return undefined;
}
