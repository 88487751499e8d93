import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { ResponseRequest } from "../monitor/hostMonitor.js";
import { type ResponseAction, Responder, type ResponsePolicy } from "./responder.js";

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

function sleeper(): ChildProcess {
  const c = spawn("sleep", ["30"], { stdio: "ignore" });
  children.push(c);
  return c;
}

/** The process state letter from /proc (T = stopped, S = sleeping, Z = zombie). */
function state(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

function request(pid: number, kind: ResponseRequest["kind"], lfc: number): ResponseRequest {
  return { kind, pid, tid: pid, exe: "/usr/bin/sleep", lfc, anomalies: lfc, syscall: "poll", time: 1, reason: `LFC ${lfc}` };
}

function responder(policies: ResponsePolicy[], extra: { dryRun?: boolean; allow?: string[]; protect?: number[]; staticKill?: boolean } = {}) {
  const actions: ResponseAction[] = [];
  const r = new Responder({
    policies: new Set(policies),
    delayFactorMs: 10,
    maxDelayMs: 400,
    suspendExecveMs: 60_000,
    onAction: (a) => actions.push(a),
    ...extra,
  });
  return { r, actions };
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Responder (pH's responses, carried out with signals on real processes)", () => {
  it("delay pauses the process for delay_factor x 2^LFC, one pause at a time, then resumes it", async () => {
    const child = sleeper();
    const { r, actions } = responder(["delay"]);
    await wait(50);
    r.handle(request(child.pid!, "delay", 4)); // 10 x 2^4 = 160 ms
    r.handle(request(child.pid!, "delay", 5)); // already paused: ignored
    await wait(40);
    expect(state(child.pid!)).toBe("T");
    expect(actions).toHaveLength(1);
    expect(actions[0]!.outcome).toBe("paused");
    expect(actions[0]!.delayMs).toBe(160);
    expect(actions[0]!.reason).toMatch(/160 ms = 10 ms x 2\^4/);
    await wait(250);
    expect(state(child.pid!)).toBe("S");
    expect(r.stats.paused).toBe(1);
    expect(r.stats.pausedMs).toBe(160);
  });

  it("does nothing for a policy that is not enabled (log only)", async () => {
    const child = sleeper();
    const { r, actions } = responder(["log"]);
    r.handle(request(child.pid!, "delay", 6));
    r.handle(request(child.pid!, "kill", 30));
    await wait(30);
    expect(state(child.pid!)).toBe("S");
    expect(actions).toHaveLength(0);
  });

  it("kill ends the process; dry-run only reports", async () => {
    const a = sleeper();
    const b = sleeper();
    const { r, actions } = responder(["kill"]);
    const exited = new Promise((resolve) => a.on("exit", (_c, sig) => resolve(sig)));
    r.handle(request(a.pid!, "kill", 30));
    expect(await exited).toBe("SIGKILL");
    expect(actions[0]!.outcome).toBe("killed");
    const dry = responder(["kill", "delay"], { dryRun: true });
    dry.r.handle(request(b.pid!, "kill", 30));
    dry.r.handle(request(b.pid!, "delay", 3));
    await wait(30);
    expect(state(b.pid!)).toBe("S");
    expect(dry.actions.map((x) => x.outcome)).toEqual(["dry-run", "dry-run"]);
  });

  it("a static kill (a call outside the binary's static model) needs staticKill, not the kill policy; safety and dry-run apply", async () => {
    const a = sleeper();
    const b = sleeper();
    const staticKill = (pid: number): ResponseRequest => ({ ...request(pid, "kill", 0), static: true, reason: "ptrace is outside the static model of /usr/bin/sleep" });
    // Without staticKill, a static request is ignored even with the kill policy; with it, pH's kills stay off.
    const off = responder(["kill"]);
    off.r.handle(staticKill(a.pid!));
    const only = responder(["log"], { staticKill: true });
    only.r.handle(request(a.pid!, "kill", 30));
    expect([...off.actions, ...only.actions]).toEqual([]);
    expect(["R", "S"]).toContain(state(a.pid!)); // running (or still starting), neither stopped nor killed
    const exited = new Promise((resolve) => a.on("exit", (_c, sig) => resolve(sig)));
    only.r.handle(staticKill(a.pid!));
    expect(await exited).toBe("SIGKILL");
    expect(only.actions.map((x) => [x.kind, x.outcome, x.reason])).toEqual([
      ["kill", "killed", "ptrace is outside the static model of /usr/bin/sleep: killed (SIGKILL)"],
    ]);
    only.r.handle(staticKill(1));
    only.r.handle(staticKill(process.pid));
    expect(only.actions.slice(1).map((x) => x.outcome)).toEqual(["refused", "refused"]);
    const dry = responder(["log"], { staticKill: true, dryRun: true });
    dry.r.handle(staticKill(b.pid!));
    expect(dry.actions.map((x) => x.outcome)).toEqual(["dry-run"]);
    expect(["R", "S"]).toContain(state(b.pid!));
  });

  it("refuses init, itself, protected pids and allow-listed executables, reporting each once", async () => {
    const child = sleeper();
    await wait(50);
    const { r, actions } = responder(["delay", "kill"], { protect: [child.pid!] });
    r.handle(request(1, "kill", 30));
    r.handle(request(process.pid, "delay", 3));
    r.handle(request(child.pid!, "delay", 3));
    r.handle(request(child.pid!, "delay", 4));
    expect(actions.map((a) => a.outcome)).toEqual(["refused", "refused", "refused"]);
    expect(actions.map((a) => a.reason)).toEqual([
      "pid 1 is init or not a process",
      "homeostat itself",
      "the capture's own tracer",
    ]);
    const allowed = responder(["delay"], { allow: [realpathSync(`/proc/${child.pid}/exe`)] });
    allowed.r.handle(request(child.pid!, "delay", 3));
    expect(allowed.actions[0]!.reason).toMatch(/allow-listed executable .*sleep/);
    expect(state(child.pid!)).toBe("S");
  });

  it("suspend-execve stops the process for the suspension time; stop() resumes everything it paused", async () => {
    const child = sleeper();
    await wait(50);
    const { r, actions } = responder(["suspend-execve"]);
    r.handle(request(child.pid!, "suspend-execve", 12));
    await wait(30);
    expect(state(child.pid!)).toBe("T");
    expect(actions[0]!.outcome).toBe("suspended");
    expect(r.pausedPids()).toEqual([child.pid]);
    r.stop();
    await wait(30);
    expect(state(child.pid!)).toBe("S");
    expect(actions.at(-1)!.outcome).toBe("resumed");
    r.handle(request(child.pid!, "suspend-execve", 12)); // stopped responders act no more
    await wait(30);
    expect(state(child.pid!)).toBe("S");
  });
});
