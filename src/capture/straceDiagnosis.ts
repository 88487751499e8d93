// Why a strace capture could not start, in one sentence with what to do: ptrace refused (Yama's ptrace_scope, a
// container's policy, another user's process), the process gone, or strace failing otherwise.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

/** kernel.yama.ptrace_scope, or undefined when Yama is absent. */
function ptraceScope(): number | undefined {
  try {
    const n = Number(readFileSync("/proc/sys/kernel/yama/ptrace_scope", "utf8").trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** One sentence on how to allow ptrace here. */
export function ptraceAdvice(attaching: boolean): string {
  const scope = ptraceScope();
  const root = process.getuid?.() === 0;
  if (attaching && scope === 1 && !root) {
    return "kernel.yama.ptrace_scope is 1 (a process may only trace its own children): run homeostat as root, or allow it with `sysctl kernel.yama.ptrace_scope=0`";
  }
  if (attaching && scope === 2) {
    return "kernel.yama.ptrace_scope is 2 (only CAP_SYS_PTRACE may attach): run homeostat as root";
  }
  if (scope === 3) {
    return "kernel.yama.ptrace_scope is 3 (ptrace is disabled until reboot): set it lower at boot (sysctl kernel.yama.ptrace_scope=1)";
  }
  if (attaching) {
    return "attach as the process's owner or as root (CAP_SYS_PTRACE); in a container, grant it (docker run --cap-add=SYS_PTRACE)";
  }
  return "ptrace is blocked here (a container's seccomp or capability policy?): allow it, e.g. docker run --cap-add=SYS_PTRACE --security-opt seccomp=unconfined";
}

/** Why strace wrote nothing: ptrace refused, the process vanished, or strace failed otherwise. */
export function diagnoseStraceFailure(
  strace: string,
  code: number | null,
  messages: string[],
  attachPid: number | undefined,
): HomeostatError {
  let text = messages.join("\n");
  if (attachPid === undefined) {
    // strace's message went to the inherited stderr; ask it again on a harmless probe to learn the reason.
    const probe = spawnSync(strace, ["-qq", "-o", "/dev/null", "--", strace, "-V"], {
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    text = probe.stderr ?? "";
  }
  if (/Operation not permitted|EPERM/.test(text)) {
    const what = attachPid !== undefined ? `attach to pid ${attachPid}` : "trace the command";
    return new HomeostatError(
      "E_PERMISSION",
      `ptrace is not permitted, cannot ${what}: ${ptraceAdvice(attachPid !== undefined)}`,
    );
  }
  if (attachPid !== undefined && /No such process/.test(text)) {
    return new HomeostatError("E_NOT_FOUND", `no process with pid ${attachPid}`);
  }
  const first = text
    .split("\n")
    .find((l) => l.trim() !== "")
    ?.trim();
  return new HomeostatError(
    "E_DEPENDENCY",
    `strace failed (exit status ${code ?? "?"})${first !== undefined ? `: ${first}` : ""}`,
  );
}
