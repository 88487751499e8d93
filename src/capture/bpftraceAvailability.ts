// Whether system-wide eBPF capture can run here, and why bpftrace failed when it did not start: each reason is
// one sentence that ends by offering the strace backend. The checks follow what bpftrace needs: the binary,
// root or CAP_BPF with CAP_PERFMON, no confidentiality lockdown, BTF type information, and tracefs.

import { existsSync, readFileSync } from "node:fs";
import { type ErrorCode, HomeostatError } from "../errors.js";
import { findExecutable } from "./executables.js";

/** Every reason eBPF capture cannot run ends by offering the per-command backend. */
export const STRACE_OFFER = "use --backend strace to watch a command or --pid instead";
/** bpftrace's stderr lines that say nothing about a failure. */
export const HARMLESS = /couldn't set RLIMIT_MEMLOCK|available_filter_functions/;

export interface Unavailable {
  code: ErrorCode;
  reason: string;
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

function hasCap(caps: bigint, cap: bigint): boolean {
  return ((caps >> cap) & 1n) === 1n;
}

/** The kernel's active lockdown mode (the bracketed word of /sys/kernel/security/lockdown), when there is one. */
function lockdownMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync("/sys/kernel/security/lockdown", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

const TRACEFS_EVENTS = ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"];

/** A reason, with the offer of the strace backend. */
export function sentence(what: string): string {
  return `${what}; ${STRACE_OFFER}`;
}

const TRACEFS_REASON = sentence(
  "tracefs is not mounted, so the kernel's tracepoints cannot be found (mount it: `mount -t tracefs tracefs /sys/kernel/tracing`)",
);
const PERMISSION_REASON = sentence(
  "system-wide eBPF capture needs root (or the CAP_BPF and CAP_PERFMON capabilities): run homeostat as root",
);

/** The bpftrace binary to run, or why eBPF capture cannot run here. */
export function checkBpftrace(env: NodeJS.ProcessEnv): Unavailable | { bpftrace: string } {
  const bpftrace = findExecutable("bpftrace", env.PATH);
  if (bpftrace === undefined) {
    return { code: "E_DEPENDENCY", reason: sentence("bpftrace is not installed (apt-get install bpftrace)") };
  }
  const caps = effectiveCaps();
  const root = process.getuid?.() === 0;
  const capable =
    caps !== undefined ? hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON)) : root;
  if (!capable) return { code: "E_PERMISSION", reason: PERMISSION_REASON };
  // Integrity lockdown leaves eBPF reads and tracefs alone; confidentiality forbids both.
  if (lockdownMode() === "confidentiality") {
    return {
      code: "E_PERMISSION",
      reason: sentence(
        "the kernel is locked down in confidentiality mode (/sys/kernel/security/lockdown), which forbids eBPF programs to read kernel memory and use tracefs",
      ),
    };
  }
  if (!existsSync("/sys/kernel/btf/vmlinux")) {
    return {
      code: "E_DEPENDENCY",
      reason: sentence(
        "the kernel has no BTF type information (/sys/kernel/btf/vmlinux is missing; it needs a kernel built with CONFIG_DEBUG_INFO_BTF=y), which bpftrace needs to read each process's executable",
      ),
    };
  }
  if (!TRACEFS_EVENTS.some((dir) => existsSync(`${dir}/raw_syscalls/sys_enter`))) {
    return { code: "E_DEPENDENCY", reason: TRACEFS_REASON };
  }
  return { bpftrace };
}

/** Undefined when system-wide eBPF capture can run here; otherwise one sentence saying why and what to do. */
export function bpftraceUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const c = checkBpftrace(env);
  return "reason" in c ? c.reason : undefined;
}

/** How a process ended, for a message. */
export function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit status ${code ?? "?"}`;
}

/** The first ERROR line of bpftrace's stderr (without the harmless ones), prefixed, or "". */
export function firstError(messages: readonly string[], prefix: string): string {
  const line =
    messages.find((l) => /ERROR/.test(l) && !HARMLESS.test(l)) ??
    messages.find((l) => l.trim() !== "" && !HARMLESS.test(l));
  return line === undefined ? "" : `${prefix}${line.replace(/^.*?ERROR:\s*/, "").trim()}`;
}

/** Why bpftrace ended before its probes were attached, in one sentence, from its exit and its stderr lines. */
export function diagnoseBpftraceStart(
  code: number | null,
  signal: NodeJS.Signals | null,
  messages: readonly string[],
): HomeostatError {
  const text = messages.filter((l) => !HARMLESS.test(l)).join("\n");
  const first = firstError(messages, "");
  const why = first === "" ? "" : ` (${first})`;
  if (/tracepoint not found|Could not read symbols|No such file or directory.*tracing/i.test(text)) {
    return new HomeostatError("E_DEPENDENCY", TRACEFS_REASON);
  }
  if (/Operation not permitted|EPERM|Permission denied|must be run as root/i.test(text)) {
    return new HomeostatError(
      "E_PERMISSION",
      sentence(
        `the kernel refused bpftrace's eBPF program${why}: run homeostat as root, outside a container or in one with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN`,
      ),
    );
  }
  if (/does not contain a field named|Unknown struct/.test(text)) {
    return new HomeostatError(
      "E_DEPENDENCY",
      sentence(`this bpftrace cannot read the kernel's types${why}: a newer bpftrace may`),
    );
  }
  return new HomeostatError(
    "E_DEPENDENCY",
    sentence(`bpftrace failed to start (${exitText(code, signal)}${firstError(messages, ": ")})`),
  );
}
