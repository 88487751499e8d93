import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { ResponseRequest } from "../engine/hostMonitor.js";
import { type ResponseAction, Responder, type ResponsePolicy } from "./responder.js";
import type { SignalSender } from "./signals.js";
import { ManualClock } from "./testing/manualClock.js";
import { procState, untilState } from "./testing/waits.js";

// Time is a manual clock: a pause ends when the test advances it, never after a sleep. Signals are real (on `sleep`
// processes) unless a test injects a failing sender, and every signal sent is recorded, so that "nothing was done"
// is checked on the record at once instead of by watching a process for a while.

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A `sleep 30`, once it sleeps (exec'd and in nanosleep: state S). */
async function sleeper(): Promise<number> {
  const c = spawn("sleep", ["30"], { stdio: "ignore" });
  children.push(c);
  await untilState(c.pid!, "S");
  return c.pid!;
}

const exitSignal = (pid: number) => {
  const c = children.find((x) => x.pid === pid)!;
  return new Promise((resolve) => c.on("exit", (_code, sig) => resolve(sig)));
};

function request(pid: number, kind: ResponseRequest["kind"], lfc: number): ResponseRequest {
  return {
    kind,
    pid,
    tid: pid,
    exe: "/usr/bin/sleep",
    lfc,
    anomalies: lfc,
    syscall: "poll",
    time: 1,
    reason: `LFC ${lfc}`,
  };
}

/** An errno error as process.kill throws it. */
function errno(code: string): Error {
  return Object.assign(new Error(`kill ${code}`), { code, errno: code === "EPERM" ? -1 : -3, syscall: "kill" });
}

const START_MS = 1_700_000_000_000;

function responder(
  policies: ResponsePolicy[],
  extra: { dryRun?: boolean; allow?: string[]; protect?: number[]; staticKill?: boolean; kill?: SignalSender } = {},
) {
  const actions: ResponseAction[] = [];
  const sent: [number, NodeJS.Signals][] = [];
  const send = extra.kill ?? ((pid, signal) => process.kill(pid, signal));
  const clock = new ManualClock(START_MS);
  const r = new Responder({
    policies: new Set(policies),
    delayFactorMs: 10,
    maxDelayMs: 400,
    suspendExecveMs: 60_000,
    onAction: (a) => actions.push(a),
    ...extra,
    clock,
    kill: (pid, signal) => {
      sent.push([pid, signal]);
      send(pid, signal);
    },
  });
  return { r, actions, sent, clock };
}

describe("Responder (pH's responses, carried out with signals on real processes)", () => {
  it("delay pauses the process for delay_factor x 2^LFC, one pause at a time, then resumes it", async () => {
    const pid = await sleeper();
    const { r, actions, sent, clock } = responder(["delay"]);
    r.handle(request(pid, "delay", 4)); // 10 x 2^4 = 160 ms
    r.handle(request(pid, "delay", 3)); // already paused for longer than this asks: ignored
    expect(sent).toEqual([[pid, "SIGSTOP"]]);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ outcome: "paused", delayMs: 160, pid });
    expect(actions[0]!.reason).toBe("LFC 4: delay 160 ms = 10 ms x 2^4");
    expect(r.pausedPids()).toEqual([pid]);
    expect(clock.pending()).toEqual([160]);
    await untilState(pid, "T");
    clock.advance(159); // not yet
    expect(sent).toHaveLength(1);
    expect(r.pausedPids()).toEqual([pid]);
    expect(procState(pid)).toBe("T");
    clock.advance(1);
    expect(sent).toEqual([
      [pid, "SIGSTOP"],
      [pid, "SIGCONT"],
    ]);
    expect(r.pausedPids()).toEqual([]);
    expect(clock.pending()).toEqual([]);
    await untilState(pid, "S");
    expect(actions).toHaveLength(1); // a delay's end is implied by its length: no line of its own
    expect(r.stats).toMatchObject({ paused: 1, pausedMs: 160 });
    // Resumed, it can be paused again; the cap applies (10 x 2^6 = 640 > 400).
    r.handle(request(pid, "delay", 6));
    expect(actions[1]).toMatchObject({ outcome: "paused", delayMs: 400 });
    expect(actions[1]!.reason).toMatch(/\(capped\)$/);
    expect(clock.pending()).toEqual([400]);
    clock.advance(400);
    expect(sent.map(([, s]) => s)).toEqual(["SIGSTOP", "SIGCONT", "SIGSTOP", "SIGCONT"]);
    await untilState(pid, "S");
    expect(r.stats).toMatchObject({ paused: 2, pausedMs: 560 });
  });

  it("a longer delay asked for during a pause extends it to end that long from now; a suspension takes it over", async () => {
    const pid = await sleeper();
    const { r, actions, sent, clock } = responder(["delay", "suspend-execve"]);
    r.handle(request(pid, "delay", 1)); // 20 ms: the first call of a burst has the lowest LFC
    r.handle(request(pid, "delay", 4)); // 160 ms from now: 140 ms more
    expect(actions.map((a) => [a.outcome, a.delayMs])).toEqual([
      ["paused", 20],
      ["paused", 140],
    ]);
    expect(actions[1]!.reason).toBe("LFC 4: delay 160 ms = 10 ms x 2^4; the pause under way made 140 ms longer");
    expect(clock.pending()).toEqual([160]);
    clock.advance(100);
    r.handle(request(pid, "delay", 4)); // as long as the pause was set for: nothing changes (one line a level)
    r.handle(request(pid, "delay", 5)); // 320 ms from now: 260 ms more
    expect(actions.map((a) => a.delayMs)).toEqual([20, 140, 260]);
    expect(clock.pending()).toEqual([320]);
    expect(r.stats).toMatchObject({ paused: 3, pausedMs: 420 });
    await untilState(pid, "T");
    clock.advance(100);
    // A suspended execve during a delay: stopped for the suspension's time from now, and said when it ends.
    r.handle(request(pid, "suspend-execve", 12));
    expect(actions.at(-1)).toMatchObject({ outcome: "suspended", delayMs: 60_000 - 220 });
    expect(r.stats).toMatchObject({ paused: 3, pausedMs: 420, suspended: 1 });
    r.handle(request(pid, "delay", 8)); // shorter than the suspension: nothing changes
    expect(actions).toHaveLength(4);
    expect(sent).toEqual([[pid, "SIGSTOP"]]); // one stop all along, not one per request
    clock.advance(60_000);
    expect(sent).toEqual([
      [pid, "SIGSTOP"],
      [pid, "SIGCONT"],
    ]);
    expect(actions.at(-1)).toMatchObject({ outcome: "resumed", reason: "the 60000 ms suspension ended" });
    expect(r.pausedPids()).toEqual([]);
    await untilState(pid, "S");
  });

  it("does nothing for a policy that is not enabled (log only)", async () => {
    const pid = await sleeper();
    const { r, actions, sent, clock } = responder(["log"]);
    r.handle(request(pid, "delay", 6));
    r.handle(request(pid, "kill", 30));
    r.handle(request(pid, "suspend-execve", 13));
    expect(sent).toEqual([]);
    expect(actions).toEqual([]);
    expect(clock.pending()).toEqual([]);
    expect(procState(pid)).toBe("S");
  });

  it("kill ends the process; dry-run only reports", async () => {
    const a = await sleeper();
    const b = await sleeper();
    const { r, actions, sent } = responder(["kill"]);
    const exited = exitSignal(a);
    r.handle(request(a, "kill", 30));
    expect(sent).toEqual([[a, "SIGKILL"]]);
    expect(await exited).toBe("SIGKILL");
    expect(actions.map((x) => [x.outcome, x.reason])).toEqual([["killed", "LFC 30: killed (SIGKILL)"]]);
    expect(r.stats.killed).toBe(1);
    const dry = responder(["kill", "delay"], { dryRun: true });
    dry.r.handle(request(b, "kill", 30));
    dry.r.handle(request(b, "delay", 3));
    expect(dry.sent).toEqual([]);
    expect(dry.clock.pending()).toEqual([]);
    expect(dry.actions.map((x) => [x.outcome, x.delayMs])).toEqual([
      ["dry-run", 0],
      ["dry-run", 80],
    ]);
    expect(dry.r.stats).toMatchObject({ dryRun: 2, killed: 0, paused: 0 });
    expect(procState(b)).toBe("S");
  });

  it("a kill during a pause ends the pause's timer; an exited pid's pause is forgotten", async () => {
    const a = await sleeper();
    const b = await sleeper();
    const { r, actions, sent, clock } = responder(["delay", "kill"]);
    r.handle(request(a, "delay", 5));
    r.handle(request(b, "delay", 4));
    expect(clock.pending()).toEqual([160, 320]);
    const exited = exitSignal(a);
    r.handle(request(a, "kill", 30)); // a kill goes through a pause
    expect(await exited).toBe("SIGKILL");
    expect(clock.pending()).toEqual([160]);
    r.forget(b); // as watch does when b exits: nothing left to resume
    expect(clock.pending()).toEqual([]);
    expect(r.pausedPids()).toEqual([]);
    clock.advance(1000);
    expect(sent).toEqual([
      [a, "SIGSTOP"],
      [b, "SIGSTOP"],
      [a, "SIGKILL"],
    ]);
    expect(actions.map((x) => x.outcome)).toEqual(["paused", "paused", "killed"]);
  });

  it("a static kill (a call outside the binary's static model) needs staticKill, not the kill policy; safety and dry-run apply", async () => {
    const a = await sleeper();
    const b = await sleeper();
    const staticKill = (pid: number): ResponseRequest => ({
      ...request(pid, "kill", 0),
      static: true,
      reason: "ptrace is outside the static model of /usr/bin/sleep",
    });
    // Without staticKill, a static request is ignored even with the kill policy; with it, pH's kills stay off.
    const off = responder(["kill"]);
    off.r.handle(staticKill(a));
    const only = responder(["log"], { staticKill: true });
    only.r.handle(request(a, "kill", 30));
    expect([...off.actions, ...only.actions]).toEqual([]);
    expect([...off.sent, ...only.sent]).toEqual([]);
    const exited = exitSignal(a);
    only.r.handle(staticKill(a));
    expect(await exited).toBe("SIGKILL");
    expect(only.actions.map((x) => [x.kind, x.outcome, x.reason])).toEqual([
      ["kill", "killed", "ptrace is outside the static model of /usr/bin/sleep: killed (SIGKILL)"],
    ]);
    only.r.handle(staticKill(1));
    only.r.handle(staticKill(process.pid));
    expect(only.actions.slice(1).map((x) => x.outcome)).toEqual(["refused", "refused"]);
    expect(only.sent).toEqual([[a, "SIGKILL"]]);
    const dry = responder(["log"], { staticKill: true, dryRun: true });
    dry.r.handle(staticKill(b));
    expect(dry.actions.map((x) => x.outcome)).toEqual(["dry-run"]);
    expect(dry.sent).toEqual([]);
    expect(procState(b)).toBe("S");
  });

  it("refuses init, itself, protected pids and allow-listed executables, reporting each once", async () => {
    const pid = await sleeper();
    const { r, actions, sent } = responder(["delay", "kill"], { protect: [pid] });
    r.handle(request(1, "kill", 30));
    r.handle(request(process.pid, "delay", 3));
    r.handle(request(pid, "delay", 3));
    r.handle(request(pid, "delay", 4));
    expect(actions.map((a) => a.outcome)).toEqual(["refused", "refused", "refused"]);
    expect(actions.map((a) => a.reason)).toEqual([
      "pid 1 is init or not a process",
      "homeostat itself",
      "the capture's own tracer",
    ]);
    expect(r.stats.refused).toBe(3);
    const allowed = responder(["delay"], { allow: [realpathSync(`/proc/${pid}/exe`)] });
    allowed.r.handle(request(pid, "delay", 3));
    expect(allowed.actions.map((a) => a.outcome)).toEqual(["refused"]);
    expect(allowed.actions[0]!.reason).toMatch(/allow-listed executable .*sleep/);
    expect([...sent, ...allowed.sent]).toEqual([]);
    expect(procState(pid)).toBe("S");
  });

  it("suspend-execve stops the process for the suspension time; stop() resumes everything it paused", async () => {
    const pid = await sleeper();
    const { r, actions, sent, clock } = responder(["suspend-execve"]);
    r.handle(request(pid, "suspend-execve", 12));
    expect(actions.map((a) => [a.outcome, a.delayMs])).toEqual([["suspended", 60_000]]);
    expect(actions[0]!.reason).toBe(
      `LFC 12: stopped for 60000 ms (pH suspend_execve); resume early with kill -CONT ${pid}`,
    );
    expect(r.pausedPids()).toEqual([pid]);
    expect(r.stats.suspended).toBe(1);
    await untilState(pid, "T");
    clock.advance(5_000);
    expect(procState(pid)).toBe("T");
    r.stop();
    expect(sent).toEqual([
      [pid, "SIGSTOP"],
      [pid, "SIGCONT"],
    ]);
    expect(clock.pending()).toEqual([]);
    expect(r.pausedPids()).toEqual([]);
    await untilState(pid, "S");
    // The line of a resumption that homeostat itself started carries the time it happened.
    expect(actions.at(-1)).toMatchObject({ outcome: "resumed", time: (START_MS + 5_000) / 1000 });
    r.handle(request(pid, "suspend-execve", 12)); // stopped responders act no more
    expect(sent).toHaveLength(2);
    expect(actions).toHaveLength(2);
  });

  it("a suspension ends by itself when its time is up, and says so", async () => {
    const pid = await sleeper();
    const { r, actions, sent, clock } = responder(["suspend-execve"]);
    r.handle(request(pid, "suspend-execve", 13));
    await untilState(pid, "T");
    clock.advance(59_999);
    expect(actions).toHaveLength(1);
    clock.advance(1);
    expect(sent.map(([, s]) => s)).toEqual(["SIGSTOP", "SIGCONT"]);
    expect(actions.map((a) => [a.outcome, a.reason])).toEqual([
      ["suspended", `LFC 13: stopped for 60000 ms (pH suspend_execve); resume early with kill -CONT ${pid}`],
      ["resumed", "the 60000 ms suspension ended"],
    ]);
    await untilState(pid, "S");
    r.stop(); // nothing left paused: nothing to resume or report
    expect(actions).toHaveLength(2);
  });

  it("a signal homeostat may not send (EPERM) is a failure with its reason, not an exit; a process gone (ESRCH) has exited", async () => {
    const pid = await sleeper(); // real, so that the safety checks pass; the injected sender refuses to signal it
    const denied = responder(["delay", "kill", "suspend-execve"], {
      kill: () => {
        throw errno("EPERM");
      },
    });
    denied.r.handle(request(pid, "delay", 3));
    expect(denied.actions).toHaveLength(1);
    expect(denied.actions[0]).toMatchObject({
      outcome: "failed",
      error: "EPERM",
      reason: `pid ${pid} could not be paused: SIGSTOP failed with EPERM (not permitted)`,
    });
    expect(denied.actions[0]!.reason).not.toMatch(/exit/);
    expect(denied.r.pausedPids()).toEqual([]);
    expect(denied.clock.pending()).toEqual([]);
    // Said once: later requests for the pid are refused with the same cause (once per kind), not tried again.
    denied.r.handle(request(pid, "delay", 4));
    denied.r.handle(request(pid, "kill", 30));
    denied.r.handle(request(pid, "kill", 31));
    expect(denied.sent).toEqual([[pid, "SIGSTOP"]]);
    expect(denied.actions.slice(1).map((a) => [a.kind, a.outcome, a.reason])).toEqual([
      ["delay", "refused", `pid ${pid} may not be signalled: SIGSTOP failed with EPERM (not permitted)`],
      ["kill", "refused", `pid ${pid} may not be signalled: SIGSTOP failed with EPERM (not permitted)`],
    ]);
    expect(denied.r.stats).toMatchObject({ paused: 0, killed: 0, refused: 2 });

    const killDenied = responder(["kill"], {
      kill: () => {
        throw errno("EPERM");
      },
    });
    killDenied.r.handle(request(pid, "kill", 30));
    expect(killDenied.actions.map((a) => [a.outcome, a.error, a.reason])).toEqual([
      ["failed", "EPERM", `pid ${pid} could not be killed: SIGKILL failed with EPERM (not permitted)`],
    ]);
    expect(killDenied.r.stats.killed).toBe(0);

    const gone = responder(["delay", "kill"], {
      kill: () => {
        throw errno("ESRCH");
      },
    });
    gone.r.handle(request(pid, "delay", 3));
    gone.r.handle(request(pid, "kill", 30));
    expect(gone.actions.map((a) => [a.outcome, a.error, a.reason])).toEqual([
      ["failed", "ESRCH", `pid ${pid} exited before it could be paused`],
      ["refused", undefined, `pid ${pid} has exited`],
    ]);
    expect(procState(pid)).toBe("S"); // nothing reached the real process
  });

  it("a pause whose end cannot be signalled (EPERM on SIGCONT) is reported, not silently left stopped", async () => {
    const pid = await sleeper();
    let allowCont = false;
    const { r, actions, sent, clock } = responder(["delay", "suspend-execve"], {
      kill: (p, signal) => {
        if (signal === "SIGCONT" && !allowCont) throw errno("EPERM");
        process.kill(p, signal);
      },
    });
    r.handle(request(pid, "delay", 2));
    await untilState(pid, "T");
    clock.advance(40);
    expect(actions.map((a) => [a.outcome, a.error, a.reason])).toEqual([
      ["paused", undefined, "LFC 2: delay 40 ms = 10 ms x 2^2"],
      ["failed", "EPERM", `pid ${pid} could not be resumed: SIGCONT failed with EPERM (not permitted)`],
    ]);
    r.handle(request(pid, "suspend-execve", 13));
    r.stop();
    expect(actions.at(-1)).toMatchObject({ outcome: "failed", error: "EPERM" });
    expect(actions.at(-1)!.reason).toMatch(
      /^homeostat is stopping, but pid \d+ could not be resumed: SIGCONT failed with EPERM/,
    );
    expect(sent.map(([, s]) => s)).toEqual(["SIGSTOP", "SIGCONT", "SIGSTOP", "SIGCONT"]);
    allowCont = true; // leave the process as it was found
    process.kill(pid, "SIGCONT");
    await untilState(pid, "S");
  });
});
