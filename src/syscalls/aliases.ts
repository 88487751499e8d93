// Names that tracers print for a system call instead of the kernel's table name (x86_64.ts, i386.ts), mapped to
// the kernel name, so that a profile learnt from strace or sysdig text matches one learnt from numeric traces.
//
// Only facts read in the tracers' own sources are listed: strace's per-ABI syscallent.h tables across its release
// tags (github.com/strace/strace, v4.5.18 to v7.x) and the sysdig/Falco event table and syscall table
// (github.com/falcosecurity/libs, driver/event_table.c and driver/syscall_table.c). Names that one tracer version
// prints for a different call than the kernel name of the same spelling are ambiguous and are NOT aliased:
//   - i386 "umount": strace <= 4.9 printed it for 52 (umount2), later versions for 22 (the kernel's umount);
//   - i386 "select": strace <= 4.10 printed it for 142 (_newselect), later versions for 82 (the kernel's select);
//   - i386 "getrlimit": strace <= 4.9 printed it for 191 (ugetrlimit), later versions for 76;
//   - sysdig reports the 32-bit calls fcntl64, sendfile64, ugetrlimit and the *32 uid/gid calls under the base name.
// On x86_64 there is no kernel "umount", so the x86_64-only alias umount -> umount2 (strace <= 4.9) is safe; the
// i386-only alias oldumount -> umount stays per-ABI so that resolving a name twice never changes it again.

import type { AbiName } from "./abi.js";

export interface SyscallAlias {
  /** The name as the tracer prints it. */
  readonly alias: string;
  /** The kernel table name. */
  readonly name: string;
  /** Who prints the alias, and why it means the kernel call. */
  readonly source: string;
}

/** Aliases that hold on every ABI (the alias is not a kernel name in either table). */
export const SYSCALL_ALIAS_LIST: readonly SyscallAlias[] = [
  { alias: "_exit", name: "exit", source: "strace <= 4.10 (i386 1, x86_64 60)" },
  { alias: "pread", name: "pread64", source: "strace <= 4.10 on x86_64; sysdig event for pread64" },
  { alias: "pwrite", name: "pwrite64", source: "strace <= 4.10 on x86_64; sysdig event for pwrite64" },
  { alias: "llseek", name: "_llseek", source: "sysdig event for _llseek" },
  { alias: "prlimit", name: "prlimit64", source: "sysdig event for prlimit64" },
  { alias: "oldselect", name: "select", source: "strace <= 4.10 on i386 (82)" },
  { alias: "old_mmap", name: "mmap", source: "strace <= 4.10 on i386 (90)" },
  { alias: "old_getrlimit", name: "getrlimit", source: "strace <= 4.9 on i386 (76)" },
  { alias: "siggetmask", name: "sgetmask", source: "strace <= 4.6 on i386 (68)" },
  { alias: "sigsetmask", name: "ssetmask", source: "strace <= 4.6 on i386 (69)" },
  {
    alias: "send",
    name: "sendto",
    source: "strace (i386 socketcall SYS_SEND) and sysdig; the kernel's send is sendto without an address",
  },
  {
    alias: "recv",
    name: "recvfrom",
    source: "strace (i386 socketcall SYS_RECV) and sysdig; the kernel's recv is recvfrom without an address",
  },
];

/** Aliases that hold only on one ABI (the alias is a kernel name, or means another call, elsewhere). */
export const ABI_SYSCALL_ALIAS_LIST: Readonly<Record<AbiName, readonly SyscallAlias[]>> = {
  x86_64: [{ alias: "umount", name: "umount2", source: "strace <= 4.9 on x86_64 (166)" }],
  // Only on i386: on x86_64 the kernel name "umount" is itself an alias (of umount2).
  i386: [{ alias: "oldumount", name: "umount", source: "strace <= 4.9 on i386 (22)" }],
};

/** Tracer name -> kernel table name, for the aliases that hold on every ABI. */
export const SYSCALL_NAME_ALIASES: ReadonlyMap<string, string> = new Map(
  SYSCALL_ALIAS_LIST.map((a) => [a.alias, a.name]),
);

const ABI_ALIASES: Record<AbiName, ReadonlyMap<string, string>> = {
  x86_64: new Map(ABI_SYSCALL_ALIAS_LIST.x86_64.map((a) => [a.alias, a.name])),
  i386: new Map(ABI_SYSCALL_ALIAS_LIST.i386.map((a) => [a.alias, a.name])),
};

/**
 * The kernel table name for a name printed by a tracer: the name itself when it is not a known alias. With an
 * ABI, that ABI's own aliases apply as well.
 */
export function canonicalSyscallName(name: string, abi?: AbiName): string {
  if (abi !== undefined) {
    const own = ABI_ALIASES[abi].get(name);
    if (own !== undefined) return own;
  }
  return SYSCALL_NAME_ALIASES.get(name) ?? name;
}
