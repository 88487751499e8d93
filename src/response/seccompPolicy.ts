// A learned profile as an enforceable policy: the system calls a program was seen to make become a seccomp
// allow-list in the OCI / Docker seccomp profile format (`defaultAction`, `architectures`, `syscalls` with
// `names` and `action`), so that a profile learned by watching a program (Forrest et al. 1996; pH) can be
// applied with `docker run --security-opt seccomp=FILE` or an OCI runtime. Everything not seen is refused with
// EPERM (SCMP_ACT_ERRNO) rather than killing the process, the gentler response pH also prefers.

import { X86_64_SYSCALLS } from "../syscalls/x86_64.js";

export interface SeccompProfile {
  defaultAction: "SCMP_ACT_ERRNO" | "SCMP_ACT_LOG" | "SCMP_ACT_KILL_PROCESS";
  defaultErrnoRet?: number;
  architectures: string[];
  syscalls: { names: string[]; action: "SCMP_ACT_ALLOW"; comment?: string }[];
}

export interface SeccompPolicyResult {
  profile: SeccompProfile;
  /** Tokens that are not x86_64 system-call names (left out of the policy). */
  skipped: string[];
}

const X86_64_NAMES: ReadonlySet<string> = new Set(X86_64_SYSCALLS.map(([, name]) => name));

/**
 * The allow-list of `seen` (system-call names) for x86_64 (and its x32/i386 compatibility architectures left
 * out: a learned x86_64 profile says nothing about them). `mode` "log" writes a profile that only logs what it
 * would refuse, for trying a policy before enforcing it.
 */
export function seccompPolicy(seen: Iterable<string>, mode: "enforce" | "log" = "enforce"): SeccompPolicyResult {
  const names = new Set<string>();
  const skipped = new Set<string>();
  for (const token of seen) (X86_64_NAMES.has(token) ? names : skipped).add(token);
  const profile: SeccompProfile = {
    defaultAction: mode === "log" ? "SCMP_ACT_LOG" : "SCMP_ACT_ERRNO",
    ...(mode === "log" ? {} : { defaultErrnoRet: 1 }),
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [
      {
        names: [...names].sort(),
        action: "SCMP_ACT_ALLOW",
        comment: "system calls homeostat saw the program make while it learned its normal behaviour",
      },
    ],
  };
  return { profile, skipped: [...skipped].sort() };
}
