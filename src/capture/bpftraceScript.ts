// The bpftrace(8) program of system-wide capture: every system call of every task, batched per thread and CPU,
// with each task's fork, exec and exit, the way pH (Somayaji & Forrest 2000) and ebpH (Findlay 2020) see a host.
// Why calls are batched, and the order and loss guarantees that follow, are in docs/ebpf-capture.md.

import { HomeostatError } from "../errors.js";

/** Calls per batch line: eight 64-bit words of four 16-bit call numbers. */
export const BATCH = 32;
/** 64-bit words per batch line, four call numbers each. */
export const WORDS = BATCH / 4;
/** bpftrace's limit for string and buffer reads (BPFTRACE_STRLEN), the longest exec name read. */
export const NAME_BYTES = 200;
/** Bits of the batch state (pid << 32 | tid << COUNT_BITS | count) that hold the count, up to BATCH. */
const COUNT_BITS = 6;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** The tid of the batch state: pid_max is at most 2^22. */
const TID_OF_STATE = `(($s >> ${COUNT_BITS}) & 0x3fffff)`;

export interface BpftraceScriptOptions {
  /** Processes (thread groups) whose calls are not captured, besides bpftrace itself (positional $1). */
  excludePids?: readonly number[];
}

/**
 * The bpftrace program. Its positional parameter $1 is bpftrace's own pid; `excludePids` are written into the
 * filter as literals. Per call it makes two map updates (the slot and the state): map updates are what the kernel
 * side costs beyond the tracepoint itself, so the batch is packed only when printed.
 */
export function bpftraceScript(options: BpftraceScriptOptions = {}): string {
  const filter = ["pid != $1", ...pidList(options.excludePids).map((p) => `pid != ${p}`)].join(" && ");
  return [
    'BEGIN { printf("R\\n"); }',
    ...syscallProbe(filter),
    ...taskProbes(),
    // Cleared so that bpftrace's dump of every map at exit prints nothing but `@kernel_syscalls: 0`.
    "END {",
    "  print(@kernel_syscalls);",
    "  clear(@kernel_syscalls); clear(@s); clear(@b);",
    "}",
    "",
  ].join("\n");
}

function pidList(pids: readonly number[] | undefined): number[] {
  const out: number[] = [];
  for (const p of pids ?? []) {
    if (!Number.isInteger(p) || p < 1 || p > 0x7fffffff) {
      throw new HomeostatError("E_USAGE", `not a process id: ${p}`);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** sys_enter: adds the call to this CPU's batch, printing the batch first when another thread owns it. */
function syscallProbe(filter: string): string[] {
  return [
    `tracepoint:raw_syscalls:sys_enter /${filter}/ {`,
    "  $s = @s[cpu];",
    `  $c = $s & ${COUNT_MASK};`,
    `  if ($c > 0 && ${TID_OF_STATE} != tid) {`,
    flushCode("    "),
    "    $c = 0;",
    "  }",
    "  $v = args->id;",
    "  if ($v < 0 || $v > 65534) { $v = 65535; }",
    `  @b[cpu * ${BATCH} + $c] = $v;`,
    "  $c = $c + 1;",
    `  $s = (pid << 32) | (tid << ${COUNT_BITS}) | $c;`,
    `  if ($c == ${BATCH}) {`,
    flushCode("    "),
    "    $s = 0;",
    "  }",
    "  @s[cpu] = $s;",
    "}",
  ];
}

/** The probes that print this CPU's batch before anything else it reports, and the exec, fork and exit lines. */
function taskProbes(): string[] {
  return [
    "tracepoint:sched:sched_switch, profile:hz:10 {",
    flushIfAny(),
    "}",
    // Two programs on one tracepoint run in the order they were attached, which is the order here: the flush
    // first. One program with both would pass the 512-byte BPF stack (the name buffer and the batch's words).
    "tracepoint:sched:sched_process_exec {",
    flushIfAny(),
    "}",
    "tracepoint:sched:sched_process_exec {",
    "  $i = curtask->mm->exe_file->f_inode;",
    '  printf("E %d %d %d %lu %u %r\\n", pid, tid, args->old_pid, $i->i_ino, $i->i_sb->s_dev,',
    `    buf(args->filename, ${NAME_BYTES}));`,
    "}",
    // task_newtask, not sched_process_fork: it has clone_flags, so a thread (CLONE_THREAD) gets its process's pid.
    "tracepoint:task:task_newtask {",
    flushIfAny(),
    '  printf("F %d %d %d %d\\n", pid, tid, (args->clone_flags & 0x10000) ? pid : args->pid, args->pid);',
    "}",
    "tracepoint:sched:sched_process_exit {",
    flushIfAny(),
    '  printf("X %d %d\\n", pid, tid);',
    "}",
  ];
}

/** Prints this CPU's batch when it holds calls, and empties it. */
function flushIfAny(): string {
  return [
    "  $s = @s[cpu];",
    `  $c = $s & ${COUNT_MASK};`,
    "  if ($c > 0) {",
    flushCode("    "),
    "    @s[cpu] = 0;",
    "  }",
  ].join("\n");
}

/**
 * Prints the batch of this CPU (state in $s; calls in @b[cpu * BATCH + slot]) and adds its calls to
 * @kernel_syscalls. The slots past the count hold stale numbers and are left out.
 */
function flushCode(indent: string): string {
  const words = Array.from({ length: WORDS }, (_, w) => `$w${w}`);
  const lines = [
    `$k = cpu * ${BATCH};`,
    `$w0 = @b[$k]; ${words
      .slice(1)
      .map((w) => `${w} = 0;`)
      .join(" ")}`,
  ];
  for (let j = 1; j < BATCH; j++) {
    const w = `$w${j >> 2}`;
    // `$w | @b[...]`, never a bare `@b[...]`: bpftrace 0.17 types a map read before its first write as none.
    lines.push(`if ($c > ${j}) { ${w} = ${w} | (@b[$k + ${j}] << ${16 * (j & 3)}); }`);
  }
  lines.push(
    `printf("B %d %d %d${" %lx".repeat(WORDS)}\\n", $s >> 32, ${TID_OF_STATE}, $c, ${words.join(", ")});`,
    "@kernel_syscalls = sum($c);",
  );
  return lines.map((l) => indent + l).join("\n");
}
