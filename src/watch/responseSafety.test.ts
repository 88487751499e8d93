// With the eBPF backend running, a responder that is asked to act on the host's most important processes refuses
// every time and signals none of them: pid 1, a kernel thread, homeostat itself and the bpftrace tracer. The
// requests are made directly (every kind, with figures far over every limit), the way the engine would; what is
// checked is the responder's refusals and, through /proc, that no target was stopped or killed, and that the tracer
// still delivers events afterwards.

import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { bpftraceUnavailableReason } from "../capture/bpftraceAvailability.js";
import { startBpftraceCapture } from "../capture/bpftraceCapture.js";
import type { ResponseRequest } from "../engine/responseRequest.js";
import { type ResponseAction, Responder } from "../response/responder.js";

const unavailable = bpftraceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the eBPF response-safety test: ${unavailable}`);

const PF_KTHREAD = 0x00200000;

/** The fields of /proc/PID/stat after the command name: [0] is the state, [6] the flags. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Some kernel thread of this host, if the pid namespace shows one. */
function kernelThread(): number | undefined {
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const flags = Number(statFields(pid)?.[6]);
    if (Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0) return pid;
  }
  return undefined;
}

describe.skipIf(unavailable !== undefined)("responses with the eBPF backend never touch the host's own", () => {
  it("refuses pid 1, a kernel thread, homeostat and its tracer, for every kind of response", async () => {
    let childExecs = 0;
    let sawChild: (() => void) | undefined;
    const childSeen = new Promise<void>((resolve) => (sawChild = resolve));
    let childPid = -1;
    const capture = startBpftraceCapture({
      sink: {
        syscall() {},
        exec(pid) {
          if (pid !== childPid) return;
          childExecs++;
          sawChild?.();
        },
        fork() {},
        exit() {},
        lost() {},
      },
    });
    await capture.ready;
    const actions: ResponseAction[] = [];
    const responder = new Responder({
      policies: new Set(["delay", "kill", "suspend-execve"]),
      delayFactorMs: 100,
      maxDelayMs: 5_000,
      suspendExecveMs: 60_000,
      staticKill: true,
      protect: [capture.tracerPid],
      onAction: (a) => actions.push(a),
    });
    const kthread = kernelThread();
    if (kthread === undefined) console.log("no kernel thread is visible in this pid namespace: that case is skipped");
    const targets = [1, process.pid, capture.tracerPid, ...(kthread !== undefined ? [kthread] : [])];
    const kinds: Pick<ResponseRequest, "kind" | "static">[] = [
      { kind: "delay" },
      { kind: "suspend-execve" },
      { kind: "kill" },
      { kind: "kill", static: true },
    ];
    for (const pid of targets) {
      for (const k of kinds) {
        responder.handle({
          ...k,
          pid,
          tid: pid,
          exe: "",
          lfc: 128,
          anomalies: 1_000_000,
          syscall: "execve",
          time: Date.now() / 1000,
          reason: "asked by the test",
        });
      }
    }
    try {
      expect(actions.length).toBeGreaterThanOrEqual(targets.length);
      expect(actions.every((a) => a.outcome === "refused")).toBe(true);
      const reasons = new Map(actions.map((a) => [a.pid, a.reason]));
      expect(reasons.get(1)).toBe("pid 1 is init or not a process");
      expect(reasons.get(process.pid)).toBe("homeostat itself");
      expect(reasons.get(capture.tracerPid)).toBe("the capture's own tracer");
      if (kthread !== undefined) expect(reasons.get(kthread)).toBe("a kernel thread");
      expect(responder.stats).toMatchObject({ paused: 0, killed: 0, suspended: 0 });
      for (const pid of targets) {
        const state = statFields(pid)?.[0];
        expect(state, `pid ${pid}`).toBeDefined();
        expect(["T", "t", "Z", "X"], `pid ${pid} is in state ${state}`).not.toContain(state);
      }
      // The tracer still captures: a program started now is seen executing.
      const child = spawn("/bin/true", { stdio: "ignore" });
      childPid = child.pid!;
      await childSeen;
      expect(childExecs).toBeGreaterThan(0);
    } finally {
      responder.stop();
      capture.stop();
      await capture.done;
    }
  }, 30_000);
});
