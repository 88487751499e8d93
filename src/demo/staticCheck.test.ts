import { describe, expect, it } from "vitest";
import { TeeSink } from "../ingest/event.js";
import { TraceCollector } from "../ingest/traceCollector.js";
import type { StaticModel } from "../static/index.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import {
  checkAgainstStatic,
  type DemoStatic,
  describeStaticModel,
  ImageTracker,
  staticStoryLine,
} from "./staticCheck.js";

const SERVER = "/srv/kvserver";

/** A set model holding read, write, close, clone, exit_group, rt_sigreturn (no execve, clone3, wait4, kill). */
function model(complete = true): StaticModel {
  const syscalls = [0, 1, 3, 15, 56, 231];
  return {
    program: SERVER,
    objects: [{ path: SERVER, role: "main", functions: 1, instructions: 1, syscallSites: 1, cached: false }],
    syscalls,
    names: ["read", "write", "close", "rt_sigreturn", "clone", "exit_group"],
    alwaysAllowed: [],
    branchingFactor: syscalls.length,
    complete,
    unresolved: complete ? [] : [{ object: SERVER, address: 0x401000, reason: "unknown number" }],
    dlopen: [],
    stats: {
      functions: 1,
      reachableFunctions: 1,
      instructions: 1,
      syscallSites: 1,
      reachableSyscallSites: 1,
      addressTakenFunctions: 0,
      milliseconds: 5,
    },
  };
}

/** Feeds strace-like events (pid, name, ret, exec path) through a collector and a tracker, as the demo does. */
function record(events: [number, string, number, string?][]) {
  const vocab = new Vocabulary();
  const collector = new TraceCollector();
  const tracker = new ImageTracker(vocab);
  const sink = new TeeSink([collector, tracker]);
  sink.beginSource({ path: "capture", format: "strace" });
  for (const [pid, name, ret, exec] of events) {
    sink.call(pid, vocab.intern(name), Number.NaN, ret, undefined);
    if (exec !== undefined) sink.note(pid, { kind: "exec", time: Number.NaN, detail: exec });
  }
  sink.endSource();
  return { vocab, traces: collector.traces, tracker };
}

describe("the static check of a recorded run", () => {
  // The launcher execs the server; the server forks a session (clone); the session is hijacked into system():
  // clone3 (whose child's first calls arrive before clone3's return), the child's execve of /bin/sh, wait4.
  const run = record([
    [100, "execve", 0, SERVER],
    [100, "read", 5],
    [100, "clone", 101],
    [101, "read", 10],
    [102, "close", 0], // the spawned child's calls come before its parent's clone3 returns
    [102, "execve", 0, "/bin/sh"],
    [101, "clone3", 102],
    [102, "read", 3], // /bin/sh's calls: not the server's
    [102, "kill", 0],
    [102, "wait4", 103],
    [101, "wait4", 102],
    [100, "exit_group", 0],
  ]);

  it("charges a call to the server only while the server's image made it, and names the calls outside the set", () => {
    const v = checkAgainstStatic(model(), SERVER, run.traces, run.tracker, run.vocab);
    expect(v.impossible.map((c) => c.syscall)).toEqual(["execve", "clone3", "wait4"]);
    expect(v.first).toEqual({ syscall: "execve", count: 1, pid: 102, call: 1 });
    expect(v.impossible.find((c) => c.syscall === "clone3")).toEqual({
      syscall: "clone3",
      count: 1,
      pid: 101,
      call: 1,
    });
    // The launcher's execve (before the server ran) and /bin/sh's own calls are not the server's.
    expect(v.checkedCalls).toBe(8);
    expect(v.otherCalls).toBe(4);
    expect(v.checkedProcesses).toBe(3);
    expect(v.executed).toEqual(["/bin/sh"]);
  });

  it("says so when every call lies inside the set, and tells the story in one line", () => {
    const normal = record([
      [200, "execve", 0, SERVER],
      [200, "clone", 201],
      [201, "read", 4],
      [201, "write", 4],
      [201, "exit_group", 0],
    ]);
    const v = checkAgainstStatic(model(), SERVER, normal.traces, normal.tracker, normal.vocab);
    expect(v.impossible).toEqual([]);
    expect(v.first).toBeNull();
    const exploit = checkAgainstStatic(model(), SERVER, run.traces, run.tracker, run.vocab);
    const s: DemoStatic = { ...describeStaticModel(model()), normal: v, exploit };
    expect(staticStoryLine(s, 10)).toBe(
      "static model (no training): the server's code can make 6 system calls; the 10 held-out normal sessions made " +
        "none outside them; the exploit made 3 it cannot: execve, clone3, wait4 (first execve at call 1 of pid 102)",
    );
    const quiet: DemoStatic = { ...describeStaticModel(model(false)), normal: v, exploit: v };
    const line = staticStoryLine(quiet, 10);
    expect(line).toContain("all lie inside the set");
    expect(line).toContain("model incomplete: 1 unresolved sites");
  });
});
