// Carries out the host monitor's response requests under a policy, as pH does (Somayaji & Forrest 2000): `log`
// only records; `delay` slows an anomalous process by delay_factor x 2^LFC (pausing it with SIGSTOP/SIGCONT, one
// pause at a time per process, so that a process stays slow while its locality frame holds anomalies, like pH's
// per-call delays; a request for a longer one while it is paused extends the pause to end that long from now, since
// events come in batches after the fact and the first of a burst has the lowest LFC); `kill` ends a process that reached anomaly_limit; `suspend-execve` stops a process whose LFC is
// above the limit when it calls execve (pH's suspend_execve), for `suspendExecveMs`. `staticKill` ends a process that
// made a call its binary cannot make (outside its static model, watch --static kill).
// Safety first: refusalReason (graduatedDelay.ts) protects pid 1, kernel threads, homeostat, its parent and
// allow-listed executables, plus the capture's own tracer; `dryRun` decides without acting; every action and
// every refusal is reported with its reason. stop() resumes every process homeostat paused, so that ending the
// monitor never leaves a process stopped. A signal that cannot be sent is a failure with its errno: a process gone
// (ESRCH) is not one homeostat may not signal (EPERM). Time, timers and signals are injectable (clock.ts, signals.ts).
//
// Limits of user space, stated: events reach homeostat after the kernel ran the call, so a suspended execve has
// usually completed (the new program is stopped at its start, not refused), and a delay starts a few
// milliseconds after the anomaly rather than before the next call.

import type { ResponseKind, ResponseRequest } from "../engine/responseRequest.js";
import { type Clock, systemClock, type TimerHandle, unrefTimer } from "./clock.js";
import { delayFor, refusalReason } from "./graduatedDelay.js";
import { processKill, type SignalFailure, type SignalSender, trySignal } from "./signals.js";

export type ResponsePolicy = "log" | ResponseKind;

export const RESPONSE_POLICIES: readonly ResponsePolicy[] = ["log", "delay", "kill", "suspend-execve"];

export interface ResponderOptions {
  /** Which responses are enabled ("log" alone: none acts). */
  policies: ReadonlySet<ResponsePolicy>;
  /** pH's delay_factor in milliseconds (delay = factor x 2^LFC). */
  delayFactorMs: number;
  /** Cap of one pause. */
  maxDelayMs: number;
  /** How long a suspended execve keeps the process stopped (pH: two days). */
  suspendExecveMs: number;
  /** Executables never acted on. */
  allow?: readonly string[];
  /**
   * Carry out kills asked for a call outside the binary's static model (requests with `static: true`, watch
   * --static kill), whatever `policies` says about pH's anomaly kills. The same safety refusals apply.
   */
  staticKill?: boolean;
  /** Pids never acted on besides the built-in ones (the capture's tracer). */
  protect?: Iterable<number>;
  dryRun?: boolean;
  /** Each action taken, refused or simulated. */
  onAction?: (action: ResponseAction) => void;
  /** Sends a signal (default process.kill); injectable for tests of policy without processes, or of failures. */
  kill?: SignalSender;
  /** Time and timers (default the real ones): when a pause ends, and the time of actions homeostat itself starts. */
  clock?: Clock;
}

export interface ResponseAction {
  time: number;
  kind: ResponseKind;
  pid: number;
  tid: number;
  exe: string;
  lfc: number;
  /** paused / resumed / killed / suspended / refused / dry-run / failed. */
  outcome: "paused" | "killed" | "suspended" | "resumed" | "refused" | "dry-run" | "failed";
  delayMs: number;
  reason: string;
  /** outcome "failed": the errno name of the signal that could not be sent ("ESRCH": gone; "EPERM": not permitted). */
  error?: string;
}

interface Paused {
  timer: TimerHandle;
  /** The request that paused the process (or last extended it), for the line that says it was resumed. */
  req: ResponseRequest;
  /** When the pause ends (clock milliseconds), and how long it was set for when it began or was last extended. */
  end: number;
  ms: number;
  outcome: "paused" | "suspended";
}

export interface ResponderStats {
  paused: number;
  pausedMs: number;
  killed: number;
  suspended: number;
  refused: number;
  dryRun: number;
}

export class Responder {
  private readonly paused = new Map<number, Paused>();
  /** Refusals are decided once per pid (a /proc read), not per call. */
  private readonly refusals = new Map<number, string | null>();
  /** pid x 4 + kind: refusals already reported. */
  private readonly reported = new Set<number>();
  private readonly protect: Set<number>;
  private readonly kill: SignalSender;
  private readonly clock: Clock;
  private readonly counts: ResponderStats = { paused: 0, pausedMs: 0, killed: 0, suspended: 0, refused: 0, dryRun: 0 };
  private stopped = false;

  constructor(private readonly options: ResponderOptions) {
    this.protect = new Set(options.protect ?? []);
    this.kill = options.kill ?? processKill;
    this.clock = options.clock ?? systemClock;
  }

  get stats(): Readonly<ResponderStats> {
    return this.counts;
  }

  /** Never act on `pid` (a tracer started after the responder). */
  protectPid(pid: number): void {
    this.protect.add(pid);
  }

  /** Pids currently paused or suspended. */
  pausedPids(): number[] {
    return [...this.paused.keys()];
  }

  handle(req: ResponseRequest): void {
    if (this.stopped) return;
    const enabled =
      req.static === true
        ? req.kind === "kill" && this.options.staticKill === true
        : this.options.policies.has(req.kind);
    if (!enabled) return;
    // One pause at a time: the process is stopped already (a kill still goes through), at most made longer.
    const paused = this.paused.get(req.pid);
    if (req.kind !== "kill" && paused !== undefined) {
      this.extend(paused, req);
      return;
    }
    const refused = this.refusal(req.pid);
    if (refused !== null) {
      // Report a refusal once per pid and kind, not on every call of a protected process.
      const key = req.pid * 4 + RESPONSE_POLICIES.indexOf(req.kind);
      if (this.reported.has(key)) return;
      this.reported.add(key);
      this.counts.refused++;
      this.report(req, "refused", 0, refused);
      return;
    }
    switch (req.kind) {
      case "delay":
        this.pause(req, delayFor(req.lfc, this.options), "paused");
        break;
      case "suspend-execve":
        this.pause(req, this.options.suspendExecveMs, "suspended");
        break;
      case "kill":
        this.terminate(req);
        break;
    }
  }

  /** The process exited: forget what was decided about its pid (pids are reused). */
  forget(pid: number): void {
    this.refusals.delete(pid);
    for (let k = 0; k < 4; k++) this.reported.delete(pid * 4 + k);
    this.unpause(pid);
  }

  /** Resumes every paused process and acts no more. */
  stop(): void {
    this.stopped = true;
    for (const [pid, p] of this.paused) {
      this.clock.clearTimer(p.timer);
      const failed = trySignal(this.kill, pid, "SIGCONT");
      const req = { ...p.req, time: this.clock.now() / 1000 };
      if (failed !== undefined && !failed.gone) {
        this.report(
          req,
          "failed",
          0,
          `homeostat is stopping, but pid ${pid} could not be resumed: SIGCONT failed with ${failed.text}`,
          failed,
        );
      } else this.report(req, "resumed", 0, "homeostat is stopping: every process it paused is resumed");
    }
    this.paused.clear();
  }

  private refusal(pid: number): string | null {
    if (this.protect.has(pid)) return "the capture's own tracer";
    let r = this.refusals.get(pid);
    if (r === undefined) {
      r = refusalReason(pid, this.options.allow ?? []);
      this.refusals.set(pid, r);
    }
    return r;
  }

  private pause(req: ResponseRequest, ms: number, outcome: "paused" | "suspended"): void {
    if (!(ms > 0)) return;
    if (this.options.dryRun === true) {
      this.counts.dryRun++;
      this.report(req, "dry-run", ms, this.why(req, ms, outcome));
      return;
    }
    const failed = trySignal(this.kill, req.pid, "SIGSTOP");
    if (failed !== undefined) {
      this.signalFailed(req, ms, "paused", failed);
      return;
    }
    const p: Paused = { timer: undefined, req, end: this.clock.now() + ms, ms, outcome };
    this.arm(p, ms);
    this.paused.set(req.pid, p);
    this.counted(outcome, ms);
    this.report(req, outcome, ms, this.why(req, ms, outcome));
  }

  /**
   * A request for a process already paused: when it asks for a longer pause than the one under way was set for (a
   * higher LFC, or a suspension), the pause is made to end that long from now; the time added is reported as a
   * pause of its own. Requests for as long or shorter change nothing, so that a burst of calls at one LFC makes
   * one line, not one per call.
   */
  private extend(p: Paused, req: ResponseRequest): void {
    const ms = req.kind === "delay" ? delayFor(req.lfc, this.options) : this.options.suspendExecveMs;
    const end = this.clock.now() + ms;
    if (!(ms > p.ms && end > p.end)) return;
    const added = end - p.end;
    const outcome = req.kind === "suspend-execve" ? "suspended" : p.outcome;
    this.clock.clearTimer(p.timer);
    p.req = req;
    p.end = end;
    p.ms = ms;
    p.outcome = outcome;
    this.arm(p, ms);
    this.counted(outcome, added);
    this.report(req, outcome, added, `${this.why(req, ms, outcome)}; the pause under way made ${added} ms longer`);
  }

  private why(req: ResponseRequest, ms: number, outcome: "paused" | "suspended"): string {
    return outcome === "paused"
      ? `${req.reason}: delay ${ms} ms = ${this.options.delayFactorMs} ms x 2^${req.lfc}${ms === this.options.maxDelayMs ? " (capped)" : ""}`
      : `${req.reason}: stopped for ${ms} ms (pH suspend_execve); resume early with kill -CONT ${req.pid}`;
  }

  private counted(outcome: "paused" | "suspended", ms: number): void {
    if (outcome === "paused") {
      this.counts.paused++;
      this.counts.pausedMs += ms;
    } else this.counts.suspended++;
  }

  /** Resumes the process `ms` from now (unless the pause is extended or ended first). */
  private arm(p: Paused, ms: number): void {
    const pid = p.req.pid;
    p.timer = this.clock.setTimer(() => {
      this.paused.delete(pid);
      const lost = trySignal(this.kill, pid, "SIGCONT");
      // Gone meanwhile: nothing to resume. Not permitted: the process stays stopped, which must be said.
      if (lost !== undefined && !lost.gone) {
        this.report(p.req, "failed", ms, `pid ${pid} could not be resumed: SIGCONT failed with ${lost.text}`, lost);
        return;
      }
      // A suspension is rare and long: its end is worth a line; a delay's end is implied by its length.
      if (p.outcome === "suspended") this.report(p.req, "resumed", ms, `the ${ms} ms suspension ended`);
    }, ms);
    // A two-day suspension must not keep the event loop (and so homeostat) alive on its own.
    unrefTimer(p.timer);
  }

  private terminate(req: ResponseRequest): void {
    if (this.options.dryRun === true) {
      this.counts.dryRun++;
      this.report(req, "dry-run", 0, `${req.reason}: would kill`);
      return;
    }
    const failed = trySignal(this.kill, req.pid, "SIGKILL");
    // Killed or gone, a paused process has nothing left to resume; one that may not be signalled keeps its pause.
    if (failed === undefined || failed.gone) this.unpause(req.pid);
    if (failed !== undefined) {
      this.signalFailed(req, 0, "killed", failed);
      return;
    }
    this.counts.killed++;
    this.report(req, "killed", 0, `${req.reason}: killed (SIGKILL)`);
  }

  private unpause(pid: number): void {
    const p = this.paused.get(pid);
    if (p === undefined) return;
    this.clock.clearTimer(p.timer);
    this.paused.delete(pid);
  }

  /**
   * A pause or kill whose signal could not be sent. Events reach user space after the fact: the process may be gone
   * (ESRCH); or homeostat may not signal it (EPERM: another user's process, without CAP_KILL). Either way the pid is
   * refused from now on, so that it is said once, not on each later event.
   */
  private signalFailed(req: ResponseRequest, delayMs: number, meant: "paused" | "killed", failed: SignalFailure): void {
    const signal = meant === "paused" ? "SIGSTOP" : "SIGKILL";
    if (failed.gone) {
      this.refusals.set(req.pid, `pid ${req.pid} has exited`);
      this.report(req, "failed", delayMs, `pid ${req.pid} exited before it could be ${meant}`, failed);
    } else {
      this.refusals.set(req.pid, `pid ${req.pid} may not be signalled: ${signal} failed with ${failed.text}`);
      this.report(
        req,
        "failed",
        delayMs,
        `pid ${req.pid} could not be ${meant}: ${signal} failed with ${failed.text}`,
        failed,
      );
    }
  }

  private report(
    req: ResponseRequest,
    outcome: ResponseAction["outcome"],
    delayMs: number,
    reason: string,
    failed?: SignalFailure,
  ): void {
    this.options.onAction?.({
      time: req.time,
      kind: req.kind,
      pid: req.pid,
      tid: req.tid,
      exe: req.exe,
      lfc: req.lfc,
      outcome,
      delayMs,
      reason,
      ...(failed !== undefined ? { error: failed.code } : {}),
    });
  }
}
