// A learned profile as an enforceable policy: the system calls a program was seen to make become a seccomp
// allow-list in the OCI / Docker seccomp profile format (`defaultAction`, `architectures`, `syscalls` with
// `names` and `action`), so that a profile learned by watching a program (Forrest et al. 1996; pH) can be
// applied with `docker run --security-opt seccomp=FILE` or an OCI runtime. Everything not seen is refused with
// EPERM (SCMP_ACT_ERRNO) rather than killing the process, the gentler response pH also prefers. The same writer
// takes a static analysis's set (Wagner & Dean 2001); since the filter is installed by the container runtime
// before it execs the program, such a list also names what the runtime itself calls after installing it.

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

const LEARNED_COMMENT = "system calls homeostat saw the program make while it learned its normal behaviour";

/**
 * What runc's init (libcontainer/standard_init_linux.go) calls between installing the filter and the program's
 * first instruction when no_new_privs is set (`docker run --security-opt no-new-privileges`, Kubernetes
 * `allowPrivilegeEscalation: false`): runc then installs it "as late as possible, just before execve" (runc PR
 * #789). runc has no official list (runc issue #2097); these follow its code. Without no_new_privs runc installs
 * the filter before dropping privileges, and capget, capset, prctl, setgroups, setresgid, setresuid, chdir,
 * getppid and fchown are needed as well (moby issue #22252); they are left out, since they are the very calls a
 * tight profile should refuse the program.
 */
export const RUNTIME_CALLS: readonly { name: string; why: string }[] = [
  { name: "execve", why: "runc execs the program after installing the filter" },
  { name: "execveat", why: "runc built with runc-dmz execs through fexecve, which is execveat with AT_EMPTY_PATH" },
  { name: "openat", why: "runc opens its exec FIFO through /proc/self/fd and lists /proc/thread-self/fd" },
  { name: "write", why: "runc writes one byte to the exec FIFO to say it is ready" },
  { name: "close", why: "runc closes its sync and log pipes, the FIFO and every fd not passed to the program" },
  { name: "getdents64", why: "runc reads /proc/thread-self/fd to close inherited fds, the fix of CVE-2024-21626" },
  { name: "newfstatat", why: "runc checks with os.Stat that /proc/thread-self exists the first time it uses it" },
  { name: "epoll_ctl", why: "Go's os.Open registers the opened fd directory with the runtime's poller" },
  { name: "clone", why: "Go's runtime may start a thread while runc blocks opening the exec FIFO until `runc start`" },
  { name: "getpid", why: "runc reads its pid for the container state; Go's preemption signals itself" },
  { name: "gettid", why: "Go's runtime reads a new thread's id" },
  { name: "tgkill", why: "Go's runtime preempts goroutines with SIGURG" },
  { name: "rt_sigreturn", why: "returns from Go's preemption signal handler" },
  { name: "rt_sigprocmask", why: "Go's runtime masks signals around thread switches and before exec" },
  { name: "sigaltstack", why: "Go's runtime sets up signal stacks for its threads" },
  { name: "futex", why: "Go's runtime parks and wakes threads on locks" },
  { name: "nanosleep", why: "Go's runtime backs off while spinning" },
  { name: "sched_yield", why: "Go's runtime yields while spinning" },
  { name: "mmap", why: "Go's runtime allocates memory" },
  { name: "munmap", why: "Go's runtime frees memory" },
  { name: "madvise", why: "Go's runtime returns memory to the kernel" },
  { name: "exit_group", why: "runc exits with an error when the exec fails" },
];

export interface SeccompPolicyOptions {
  /** The comment of the program's entry (default: that a learned profile saw these calls). */
  comment?: string;
  /**
   * Adds a second entry with the RUNTIME_CALLS the program's entry lacks: needed when the list comes from the
   * program alone (static analysis), which says nothing about the runtime that installs the filter.
   */
  runtimeCalls?: boolean;
}

/**
 * The allow-list of `seen` (system-call names) for x86_64 (and its x32/i386 compatibility architectures left
 * out: a learned x86_64 profile says nothing about them). `mode` "log" writes a profile that only logs what it
 * would refuse, for trying a policy before enforcing it.
 */
export function seccompPolicy(
  seen: Iterable<string>,
  mode: "enforce" | "log" = "enforce",
  options: SeccompPolicyOptions = {},
): SeccompPolicyResult {
  const names = new Set<string>();
  const skipped = new Set<string>();
  for (const token of seen) (X86_64_NAMES.has(token) ? names : skipped).add(token);
  const profile: SeccompProfile = {
    defaultAction: mode === "log" ? "SCMP_ACT_LOG" : "SCMP_ACT_ERRNO",
    ...(mode === "log" ? {} : { defaultErrnoRet: 1 }),
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [{ names: [...names].sort(), action: "SCMP_ACT_ALLOW", comment: options.comment ?? LEARNED_COMMENT }],
  };
  const runtime = options.runtimeCalls === true ? RUNTIME_CALLS.filter((c) => !names.has(c.name)) : [];
  if (runtime.length > 0) {
    profile.syscalls.push({
      names: runtime.map((c) => c.name).sort(),
      action: "SCMP_ACT_ALLOW",
      comment:
        "calls the container runtime (runc) makes after installing this filter and before the program starts, " +
        "assuming no_new_privs: " +
        runtime
          .slice()
          .sort((a, b) => (a.name < b.name ? -1 : 1))
          .map((c) => `${c.name}: ${c.why}`)
          .join("; "),
    });
  }
  return { profile, skipped: [...skipped].sort() };
}
