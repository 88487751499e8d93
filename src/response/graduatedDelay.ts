// pH's graduated response in user space (Somayaji & Forrest 2000, "Automated response using system-call delays"):
// a process is slowed in proportion to how anomalous it has recently been, delay = delay_factor x 2^LFC, so that a
// few stray anomalies cost almost nothing while a burst (an attack) slows the process to a crawl. pH delays each
// system call in the kernel; here the process is paused with SIGSTOP and resumed with SIGCONT after the delay.
// Safety first: never act on pid 1, on kernel threads, on homeostat itself or its parent (the tracer), or on an
// allow-listed executable; every decision carries its reason, and a dry run decides without acting.

import { readFileSync, readlinkSync } from "node:fs";
import { type Clock, systemClock } from "./clock.js";
import { processKill, type SignalSender, trySignal } from "./signals.js";

export interface DelayPolicy {
  /** Milliseconds per unit of 2^LFC (pH's delay_factor); 0 disables delays. */
  delayFactorMs: number;
  /** Upper bound of one delay in milliseconds (2^LFC grows fast). */
  maxDelayMs: number;
  /** Executables (absolute paths) never acted on. */
  allow?: readonly string[];
  /** Decide and report, but do not signal anything. */
  dryRun?: boolean;
}

/** pH's delay for a locality frame count: delay_factor x 2^LFC, capped; 0 when LFC is 0. */
export function delayFor(lfc: number, policy: Pick<DelayPolicy, "delayFactorMs" | "maxDelayMs">): number {
  if (!(lfc > 0) || !(policy.delayFactorMs > 0)) return 0;
  return Math.min(policy.maxDelayMs, policy.delayFactorMs * 2 ** Math.min(lfc, 60));
}

/** PF_KTHREAD in /proc/PID/stat's flags field: the process is a kernel thread. */
const PF_KTHREAD = 0x00200000;

/** Why homeostat must not act on `pid`, or null when it may. */
export function refusalReason(pid: number, allow: readonly string[] = []): string | null {
  if (!Number.isInteger(pid) || pid <= 1) return `pid ${pid} is init or not a process`;
  if (pid === process.pid) return "homeostat itself";
  if (pid === process.ppid) return "homeostat's parent (its tracer or shell)";
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return `pid ${pid} does not exist`;
  }
  // Fields after the parenthesised command name (which may itself hold spaces and parentheses).
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const flags = Number(fields[6]);
  if (Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0) return "a kernel thread";
  if (allow.length > 0) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (allow.includes(exe)) return `allow-listed executable ${exe}`;
    } catch {
      // no executable to compare (exited, or not readable): nothing to allow-list by
    }
  }
  return null;
}

export interface DelayAction {
  pid: number;
  lfc: number;
  delayMs: number;
  /**
   * What was done: "paused", "none" (no delay due), "refused" (protected, or gone before it could be paused),
   * "dry-run", or "failed" (a signal homeostat may not send, EPERM; its errno name in `error`).
   */
  outcome: "paused" | "none" | "refused" | "dry-run" | "failed";
  reason: string;
  error?: string;
}

/** What delayProcess uses of the outside world; the real ones by default, injectable for tests. */
export interface DelayDeps {
  kill?: SignalSender;
  clock?: Clock;
}

/**
 * Applies the policy to a process whose locality frame count is `lfc`: pauses it for delayFor(lfc) milliseconds
 * (resolving when it has been resumed) unless it is protected or the policy is a dry run.
 */
export async function delayProcess(
  pid: number,
  lfc: number,
  policy: DelayPolicy,
  deps: DelayDeps = {},
): Promise<DelayAction> {
  const kill = deps.kill ?? processKill;
  const clock = deps.clock ?? systemClock;
  const delayMs = delayFor(lfc, policy);
  if (delayMs === 0) return { pid, lfc, delayMs, outcome: "none", reason: "LFC 0 or delays disabled" };
  const refused = refusalReason(pid, policy.allow);
  if (refused !== null) return { pid, lfc, delayMs, outcome: "refused", reason: refused };
  const reason = `LFC ${lfc}: delay ${delayMs} ms = ${policy.delayFactorMs} ms x 2^${lfc}${delayMs === policy.maxDelayMs ? " (capped)" : ""}`;
  if (policy.dryRun === true) return { pid, lfc, delayMs, outcome: "dry-run", reason };
  const failed = trySignal(kill, pid, "SIGSTOP");
  if (failed?.gone === true)
    return { pid, lfc, delayMs, outcome: "refused", reason: `pid ${pid} exited before it could be paused` };
  if (failed !== undefined) {
    return {
      pid,
      lfc,
      delayMs,
      outcome: "failed",
      reason: `pid ${pid} could not be paused: SIGSTOP failed with ${failed.text}`,
      error: failed.code,
    };
  }
  await new Promise<void>((resolve) => clock.setTimer(resolve, delayMs));
  const lost = trySignal(kill, pid, "SIGCONT");
  // Killed while paused: nothing to resume. Not permitted: the process stays stopped, which must be said.
  if (lost !== undefined && !lost.gone) {
    return {
      pid,
      lfc,
      delayMs,
      outcome: "failed",
      reason: `pid ${pid} could not be resumed: SIGCONT failed with ${lost.text}`,
      error: lost.code,
    };
  }
  return { pid, lfc, delayMs, outcome: "paused", reason };
}
