import { execFileSync, spawn } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isHomeostatError } from "../errors.js";
import { bpftraceUnavailableReason, diagnoseBpftraceStart, STRACE_OFFER } from "./bpftraceAvailability.js";
import { startBpftraceCapture } from "./bpftraceCapture.js";
import { BpftraceOutputParser, escapeName, unescapeName } from "./bpftraceOutput.js";
import { BATCH, bpftraceScript } from "./bpftraceScript.js";
import { kernelDevToUserDev, procExeIdentity, userDevToKernelDev } from "./execIdentity.js";
import type { ExeIdentity, HostEventSink } from "./hostEvents.js";
import { findExecutable } from "./executables.js";
import { type HostEvent, HostEventRecorder } from "./testing/hostEventRecorder.js";

type Ev = HostEvent;

const plainName = (pid: number, dev: number, ino: number, filename: string): ExeIdentity => ({
  path: filename,
  dev,
  ino,
});

function parse(text: string, chunk = 0): { sink: HostEventRecorder; parser: BpftraceOutputParser } {
  const sink = new HostEventRecorder();
  const parser = new BpftraceOutputParser({ sink, resolveExe: plainName });
  const bytes = Buffer.from(text, "latin1");
  if (chunk <= 0) parser.write(bytes, 1);
  else for (let i = 0; i < bytes.length; i += chunk) parser.write(bytes.subarray(i, i + chunk), 1);
  parser.end();
  return { sink, parser };
}

/** The four words of a batch line past the first four. */
const Z4 = " 0 0 0 0";

/**
 * Runs `fn` with every thread of this process allowed on one CPU only (children inherit it), then restores the
 * affinity this process had. taskset is util-linux's, which every Debian has.
 */
async function onOneCpu(fn: () => Promise<void>): Promise<void> {
  const pid = String(process.pid);
  const list = /list:\s*(\S+)/.exec(execFileSync("taskset", ["-c", "-p", pid], { encoding: "utf8" }))![1]!;
  const first = /^\d+/.exec(list)![0];
  execFileSync("taskset", ["-a", "-c", "-p", first, pid], { stdio: "ignore" });
  try {
    await fn();
  } finally {
    execFileSync("taskset", ["-a", "-c", "-p", list, pid], { stdio: "ignore" });
  }
}

const nrs = (events: Ev[]): number[] => events.flatMap((e) => (e.kind === "syscall" ? [e.nr] : []));

describe("device numbers", () => {
  it("converts the kernel's major<<20|minor to stat(2)'s st_dev", () => {
    expect(kernelDevToUserDev((8 << 20) | 1)).toBe(0x801); // sda1: 2049
    expect(kernelDevToUserDev(259 * 0x100000 + 3)).toBe(0x10303); // nvme0n1p3: 66307
    expect(kernelDevToUserDev(254 * 0x100000)).toBe(65024); // vda here: bpftrace printed 266338304
    expect(kernelDevToUserDev(0x12 * 0x100000 + 0x12345)).toBe(0x12301245); // minor above 255
    expect(kernelDevToUserDev(0xfff * 0x100000 + 0xfffff)).toBe(0xffffffff);
    expect(kernelDevToUserDev(0)).toBe(0);
  });

  it("is inverted by userDevToKernelDev for every 12-bit major and 20-bit minor", () => {
    for (const major of [0, 1, 8, 254, 259, 0xfff]) {
      for (const minor of [0, 1, 0xff, 0x100, 0x12345, 0xfffff]) {
        const kdev = major * 0x100000 + minor;
        expect(userDevToKernelDev(kernelDevToUserDev(kdev))).toBe(kdev);
      }
    }
  });
});

describe("bpftraceScript", () => {
  it("filters bpftrace ($1) and the given pids out of the calls, and has every probe", () => {
    const s = bpftraceScript({ excludePids: [42, 7, 42] });
    expect(s).toContain("tracepoint:raw_syscalls:sys_enter /pid != $1 && pid != 42 && pid != 7/");
    for (const probe of [
      "BEGIN",
      "tracepoint:sched:sched_switch",
      "profile:hz:10",
      "tracepoint:sched:sched_process_exec",
      "tracepoint:task:task_newtask",
      "tracepoint:sched:sched_process_exit",
      "END",
    ]) {
      expect(s).toContain(probe);
    }
  });

  it("refuses what is not a pid", () => {
    expect(() => bpftraceScript({ excludePids: [0] })).toThrow(/not a process id/);
    expect(() => bpftraceScript({ excludePids: [1.5] })).toThrow(/not a process id/);
  });
});

describe("BpftraceOutputParser", () => {
  // A real batch: a forked bash child's last calls before execve (59).
  const real = `B 8982 8982 13 d000e00270111 d000d000d000d 300210101000d 3b${Z4}\n`;

  it("decodes a batch: 16-bit numbers, low half of the first word first", () => {
    const { sink, parser } = parse(real);
    expect(nrs(sink.events)).toEqual([273, 39, 14, 13, 13, 13, 13, 13, 13, 257, 33, 3, 59]);
    expect(sink.events.every((e) => e.kind === "syscall" && e.pid === 8982 && e.tid === 8982)).toBe(true);
    expect(parser.syscalls).toBe(13);
    expect(parser.skippedLines).toBe(0);
  });

  it("decodes all 32 slots, full 64-bit words, and 0xffff as -1", () => {
    const words = "ffff000300020001 7000600050004 b000a00090008 f000e000d000c";
    const { sink } = parse(`B 1 2 32 ${words} ${words}\n`);
    const sixteen = [1, 2, 3, -1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    expect(nrs(sink.events)).toEqual([...sixteen, ...sixteen]);
    expect(BATCH).toBe(32);
  });

  it("gives every event the time of the chunk that completed its line", () => {
    const sink = new HostEventRecorder();
    const parser = new BpftraceOutputParser({ sink, resolveExe: plainName });
    parser.write(Buffer.from(`B 1 1 1 3b 0 0 0${Z4}\nB 2 2 1 `), 10);
    parser.write(Buffer.from(`e7 0 0 0${Z4}\n`), 11);
    expect(sink.events.map((e) => e.time)).toEqual([10, 11]);
  });

  it("reads exec, fork, exit, losses, counts, the attach and ready lines", () => {
    const name = escapeName(Buffer.from("/usr/bin/new\nline é\0garbage\0\0", "utf8"));
    let readyCalls = 0;
    const sink = new HostEventRecorder();
    const parser = new BpftraceOutputParser({ sink, resolveExe: plainName, onReady: () => readyCalls++ });
    const text = [
      "Attaching 8 probes...",
      "R",
      "F 100 101 100 102", // a thread of 100
      "F 100 100 200 200", // a process
      `E 300 300 300 260601 266338304 ${name}`,
      `E 400 400 401 5 266338304 ${escapeName(Buffer.from("a b\0", "latin1"))}`,
      "X 100 102",
      "Lost 7 events",
      "",
      "@kernel_syscalls: 1234",
      "",
      "",
      "@kernel_syscalls: 0",
      "",
    ].join("\n");
    parser.write(Buffer.from(text, "latin1"), 5);
    parser.end();
    expect(readyCalls).toBe(1);
    expect(parser.ready).toBe(true);
    expect(parser.probes).toBe(8);
    expect(parser.kernelSyscalls).toBe(1234);
    expect(parser.lost).toBe(7);
    expect(parser.skippedLines).toBe(0);
    expect(sink.events).toEqual([
      { kind: "fork", parentPid: 100, parentTid: 101, childPid: 100, childTid: 102, time: 5 },
      { kind: "fork", parentPid: 100, parentTid: 100, childPid: 200, childTid: 200, time: 5 },
      { kind: "exec", pid: 300, tid: 300, exe: { path: "/usr/bin/new\nline é", dev: 65024, ino: 260601 }, time: 5 },
      // A non-leader thread exec'd: its old tid ends, and it goes on as the leader's tid.
      { kind: "exit", pid: 400, tid: 401, time: 5 },
      { kind: "exec", pid: 400, tid: 400, exe: { path: "a b", dev: 65024, ino: 5 }, time: 5 },
      { kind: "exit", pid: 100, tid: 102, time: 5 },
      { kind: "lost", count: 7, site: "kernel", time: 5 },
    ]);
  });

  it("counts malformed lines without throwing or delivering part of them", () => {
    const bad = [
      `B 1 2 0 1 0 0 0${Z4}`, // empty batch
      `B 1 2 33 1 0 0 0${Z4}`, // more than 32
      "B 1 2 3 1 0 0 0 0 0 0", // seven words
      `B 1 2 3 1 0 0 0 0${Z4}`, // nine words
      `B 1 2 3 1g 0 0 0${Z4}`,
      `B 1 2 3 11112222333344445 0 0 0${Z4}`, // 17 hex digits
      `B 1 2 3 1 0 0 0${Z4} `, // a blank at the end
      `B -1 2 1 1 0 0 0${Z4}`,
      `B 12345678901 2 1 1 0 0 0${Z4}`,
      `B  1 2 1 1 0 0 0${Z4}`,
      "F 1 2 3",
      "X 1",
      "Lost many events",
      "@other: 3",
      "ERROR: something",
      "E 1 2 3 4",
    ];
    const { sink, parser } = parse(`${bad.join("\n")}\nB 9 9 1 3c 0 0 0${Z4}\n`, 3);
    expect(parser.skippedLines).toBe(bad.length);
    expect(sink.events).toEqual([{ kind: "syscall", pid: 9, tid: 9, nr: 60, time: 1 }]);
    expect(parser.unknownLines.length).toBe(5);
  });

  it("skips an overlong line, in one chunk or split, and resynchronises at its newline", () => {
    const sink = new HostEventRecorder();
    const parser = new BpftraceOutputParser({ sink, resolveExe: plainName, maxLineBytes: 32 });
    parser.write(Buffer.from(`B 1 1 1 ${"1".repeat(40)} 0 0 0\nB 1 1 1 3 0 0 0${Z4}\nB 2 2 1 `), 1);
    parser.write(Buffer.from("0".repeat(40)), 1);
    parser.write(Buffer.from(` 0 0 0\nB 3 3 1 4 0 0 0${Z4}\n`), 1);
    expect(parser.skippedLines).toBe(2);
    expect(nrs(sink.events)).toEqual([3, 4]);
  });

  it("skips a last line cut short by the end of the output", () => {
    const { sink, parser } = parse(`B 1 1 1 3 0 0 0${Z4}\nB 1 1 1 3 0 0 0 0 0 0`);
    expect(nrs(sink.events)).toEqual([3]);
    expect(parser.skippedLines).toBe(1);
  });

  it("unescapes %r names up to the first NUL and as UTF-8", () => {
    expect(unescapeName("/bin/ls\\x00x\\x00\\x00")).toBe("/bin/ls");
    expect(unescapeName("caf\\xc3\\xa9\\x0a")).toBe("café\n");
    expect(unescapeName("no-nul-when-cut")).toBe("no-nul-when-cut");
    expect(unescapeName(escapeName(Buffer.from("\x01\x7f ~", "latin1")))).toBe("\x01\x7f ~");
  });
});

describe("procExeIdentity", () => {
  it("names a gone process's file by the execve name, or by a script's interpreter, when the inode agrees", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-exe-"));
    try {
      const sh = realpathSync("/bin/sh");
      const shStat = statSync(sh);
      const script = path.join(dir, "s");
      const nested = path.join(dir, "n");
      writeFileSync(script, "#!/bin/sh -e\nexit 0\n", { mode: 0o755 });
      writeFileSync(nested, `#! ${script}\n`, { mode: 0o755 });
      const gone = 4_194_303;
      const shId = { path: sh, dev: shStat.dev, ino: shStat.ino };
      expect(procExeIdentity(gone, shStat.dev, shStat.ino, "/bin/sh")).toEqual(shId);
      expect(procExeIdentity(gone, shStat.dev, shStat.ino, script)?.path).toBe(sh);
      expect(procExeIdentity(gone, shStat.dev, shStat.ino, nested)?.path).toBe(sh);
      // No file with that inode to be found: the name as given; relative names are not looked up here.
      expect(procExeIdentity(gone, 1, 2, script)).toEqual({ path: script, dev: 1, ino: 2 });
      expect(procExeIdentity(gone, shStat.dev, shStat.ino, "sh")?.path).toBe("sh");
      expect(procExeIdentity(gone, 0, 0, "")).toBeUndefined();
      // A live process: /proc's path.
      const self = statSync("/proc/self/exe");
      expect(procExeIdentity(process.pid, self.dev, self.ino, "whatever")?.path).toBe(realpathSync(process.execPath));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("availability", () => {
  it("says bpftrace is missing, and offers strace, when it is not on PATH", () => {
    const reason = bpftraceUnavailableReason({ PATH: "/nonexistent" });
    expect(reason).toMatch(/bpftrace is not installed \(apt-get install bpftrace\)/);
    expect(reason?.endsWith(STRACE_OFFER)).toBe(true);
    let err: unknown;
    try {
      startBpftraceCapture({ sink: new HostEventRecorder(), env: { PATH: "/nonexistent" } });
    } catch (e) {
      err = e;
    }
    expect(isHomeostatError(err) && err.code).toBe("E_DEPENDENCY");
  });

  it("refuses a ring buffer that is not a power of two of pages", () => {
    expect(() => startBpftraceCapture({ sink: new HostEventRecorder(), ringBufferPages: 100 })).toThrow(/power of two/);
  });

  it("diagnoses bpftrace failing at start in one sentence", () => {
    const memlock = `ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem`;
    const tracefs = diagnoseBpftraceStart(1, null, [memlock, "ERROR: tracepoint not found: raw_syscalls:sys_enter"]);
    expect(tracefs.code).toBe("E_DEPENDENCY");
    expect(tracefs.message).toContain("mount -t tracefs tracefs /sys/kernel/tracing");
    const perm = diagnoseBpftraceStart(1, null, [
      "ERROR: Error loading program: tracepoint:raw_syscalls:sys_enter (try -v): Operation not permitted",
    ]);
    expect(perm.code).toBe("E_PERMISSION");
    const other = diagnoseBpftraceStart(255, null, [memlock, "stdin:1:1-2: ERROR: syntax error"]);
    expect(other.message).toBe(`bpftrace failed to start (exit status 255: syntax error); ${STRACE_OFFER}`);
    for (const e of [tracefs, perm, other]) {
      expect(e.message.endsWith(STRACE_OFFER)).toBe(true);
      expect(e.message.split("\n")).toHaveLength(1);
    }
  });
});

// ------------------------------------------------------------------------------------------------ the real thing

const unavailable = bpftraceUnavailableReason();
if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);

const X64 = { write: 1, close: 3, mmap: 9, brk: 12, execve: 59, getdents64: 217, exit_group: 231, openat: 257 };

/** Runs a program to its end with its output thrown away; resolves with its pid. */
function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("close", () => resolve(child.pid!));
  });
}

/** A pid no test process has: the one a forged line would claim. */
const FORGED = 4_194_303;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether `cond` became true within `ms` (checked every few milliseconds as events arrive). */
async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await sleep(5);
  }
  return true;
}

describe.skipIf(unavailable !== undefined)("startBpftraceCapture (system-wide, needs root and bpftrace)", () => {
  it("captures programs it did not start: their exec (dev:inode), calls, forks, threads and exits", async () => {
    const ls = statSync("/bin/ls");
    const lsPath = realpathSync("/bin/ls");
    const sink = new HostEventRecorder();
    // Only our children's events are kept (the rest of the host is counted), so memory stays small.
    const kept = new Set<number>();
    let ownCalls = 0;
    let forgedCalls = 0;
    let tracerCalls = 0;
    let tracerPid = -1;
    const filtered: HostEventSink = {
      syscall(pid, tid, nr, time) {
        if (pid === process.pid) ownCalls++;
        if (pid === FORGED) forgedCalls++;
        if (pid === tracerPid) tracerCalls++;
        if (kept.has(pid)) sink.syscall(pid, tid, nr, time);
      },
      exec: (pid, tid, exe, time) => sink.exec(pid, tid, exe, time),
      fork: (pp, pt, cp, ct, time) => sink.fork(pp, pt, cp, ct, time),
      exit: (pid, tid, time) => sink.exit(pid, tid, time),
      lost: (count, site, time) => sink.lost(count, site, time),
    };
    const messages: string[] = [];
    const capture = startBpftraceCapture({ sink: filtered, onMessage: (l) => messages.push(l) });
    tracerPid = capture.tracerPid;
    await capture.ready;

    // A child's pid is only known after spawn() returns, but its events arrive later, through the pipe. The ls
    // children inherit this process's affinity to one CPU, so bpftrace reads all of their lines from one buffer, in
    // the order they happened (docs/ebpf-capture.md, "Order").
    const pids: number[] = [];
    await onOneCpu(async () => {
      for (let i = 0; i < 3; i++) {
        const child = spawn("/bin/ls", ["/"], { stdio: "ignore" });
        kept.add(child.pid!);
        pids.push(child.pid!);
        await new Promise((r) => child.on("close", r));
      }
    });
    const nodeChild = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
    kept.add(nodeChild.pid!);
    await new Promise((r) => nodeChild.on("close", r));
    // A program whose name tries to forge output lines (a name may hold newlines).
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-bpftrace-"));
    const evil = path.join(
      dir,
      `x\nF ${FORGED} ${FORGED} ${FORGED} ${FORGED}\nB ${FORGED} ${FORGED} 1 3b 0 0 0${Z4}\n`,
    );
    copyFileSync("/bin/true", evil);
    chmodSync(evil, 0o755);
    const evilChild = spawn(evil, [], { stdio: "ignore" });
    const evilPid = evilChild.pid!;
    await new Promise((r) => evilChild.on("close", r));
    // A script: the process runs its interpreter.
    const script = path.join(dir, "script");
    writeFileSync(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const scriptChild = spawn(script, [], { stdio: "ignore" });
    const scriptPid = scriptChild.pid!;
    await new Promise((r) => scriptChild.on("close", r));
    // Events come through bpftrace's 10 Hz flush and the pipe: the last child's exit is the one to wait for.
    await waitFor(() => sink.events.some((e) => e.kind === "exit" && e.pid === scriptPid), 10_000);
    capture.stop();
    const stats = await capture.done;
    // Only now: the exec lines are parsed after the programs ended, and a script is named by reading its #! line.
    rmSync(dir, { recursive: true, force: true });

    console.log(
      `bpftrace host capture: ${JSON.stringify(stats)}, ${sink.events.length} events kept (our children's calls; every exec, fork, exit)`,
    );
    expect(stats.backend).toBe("bpftrace");
    expect(stats.skippedLines).toBe(0);
    expect(stats.kernelSyscalls).toBeDefined();
    expect(stats.kernelSyscalls!).toBeGreaterThanOrEqual(stats.syscalls);
    expect(stats.syscalls).toBeGreaterThan(0);
    expect(ownCalls).toBe(0);
    expect(tracerCalls).toBe(0);
    if (stats.lost > 0) {
      console.log(`bpftrace lost ${stats.lost} records: per-program checks skipped`);
      return;
    }
    for (const pid of pids) {
      const mine = sink.events.filter(
        (e) => ("pid" in e && e.pid === pid) || (e.kind === "fork" && e.childPid === pid),
      );
      const exec = mine.find((e) => e.kind === "exec");
      expect(exec, `exec of ls ${pid}`).toBeDefined();
      if (exec?.kind === "exec") {
        expect(exec.exe?.ino).toBe(ls.ino);
        expect(exec.exe?.dev).toBe(ls.dev);
        expect(exec.exe?.path).toBe(lsPath);
      }
      const fork = mine.find((e) => e.kind === "fork");
      expect(fork).toMatchObject({ parentPid: process.pid, childPid: pid, childTid: pid });
      expect(mine.some((e) => e.kind === "exit" && e.tid === pid)).toBe(true);
      const calls = nrs(mine);
      for (const nr of [X64.execve, X64.brk, X64.mmap, X64.openat, X64.getdents64, X64.write, X64.exit_group]) {
        expect(calls, `syscall ${nr} of ls ${pid}`).toContain(nr);
      }
      // Batches are flushed before the exec and exit lines, so execve comes just before the exec and exit_group
      // last.
      const beforeExec = nrs(mine.slice(0, mine.indexOf(exec!)));
      expect(beforeExec[beforeExec.length - 1], `ls ${pid}: the call before its exec`).toBe(X64.execve);
      expect(calls[calls.length - 1], `ls ${pid}: its last call`).toBe(X64.exit_group);
    }
    // Node starts threads: forks whose child is a thread of the child process.
    const threads = sink.events.filter(
      (e) => e.kind === "fork" && e.parentPid === nodeChild.pid && e.childPid === nodeChild.pid,
    );
    expect(threads.length).toBeGreaterThan(0);
    for (const t of threads) if (t.kind === "fork") expect(t.childTid).not.toBe(nodeChild.pid);
    expect(messages.some((m) => /RLIMIT_MEMLOCK/.test(m))).toBe(false);
    const evilExec = sink.events.find((e) => e.kind === "exec" && e.pid === evilPid);
    expect(evilExec?.kind === "exec" && evilExec.exe?.path).toBe(evil);
    expect(forgedCalls).toBe(0);
    const sh = statSync("/bin/sh");
    const scriptExec = sink.events.find((e) => e.kind === "exec" && e.pid === scriptPid);
    const shId = { path: realpathSync("/bin/sh"), dev: sh.dev, ino: sh.ino };
    expect(scriptExec?.kind === "exec" && scriptExec.exe).toEqual(shId);
    expect(sink.events.some((e) => e.kind === "fork" && e.parentPid === FORGED)).toBe(false);
  }, 20_000);

  it("counts what the ring buffer loses while bpftrace cannot read it", async () => {
    let calls = 0;
    let lostReported = 0;
    const execs = new Set<number>();
    const capture = startBpftraceCapture({
      ringBufferPages: 8,
      sink: {
        syscall() {
          calls++;
        },
        exec(pid) {
          execs.add(pid);
        },
        fork() {},
        exit() {},
        lost(count) {
          lostReported += count;
        },
      },
    });
    await capture.ready;
    // A stopped reader is the slowest reader: 8 pages per CPU hold a few hundred batches, dd makes 400k calls.
    // On CPU 0, because the kernel reports a loss with the next record it writes into the same CPU's buffer.
    const taskset = findExecutable("taskset", process.env.PATH);
    const onCpu0 = (argv: string[]): Promise<number> =>
      taskset === undefined ? run(argv[0]!, argv.slice(1)) : run(taskset, ["-c", "0", ...argv]);
    process.kill(capture.tracerPid, "SIGSTOP");
    try {
      await onCpu0(["dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"]);
    } finally {
      process.kill(capture.tracerPid, "SIGCONT");
    }
    // The kernel reports the loss with the next record written on that CPU: markers run there until the loss and a
    // marker's own exec have come through (a deadline only guards against a hang).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const marker = await onCpu0(["/bin/true"]);
      const seen = await waitFor(() => execs.has(marker), 1_000);
      if ((seen && lostReported > 0) || Date.now() > deadline) break;
    }
    capture.stop();
    const stats = await capture.done;
    console.log(`bpftrace with a stopped reader, 8-page ring buffer: ${JSON.stringify(stats)}`);
    expect(stats.syscalls).toBe(calls);
    expect(stats.lost).toBe(lostReported);
    expect(stats.lost).toBeGreaterThan(0);
    expect(stats.kernelSyscalls! - stats.syscalls).toBeGreaterThanOrEqual(stats.lost);
  }, 20_000);

  it("turns a bpftrace that fails at start, or ends on its own, into one sentence", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-fake-bpftrace-"));
    try {
      const fake = path.join(dir, "bpftrace");
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ""}` };
      writeFileSync(fake, "#!/bin/sh\necho 'ERROR: tracepoint not found: raw_syscalls:sys_enter' >&2\nexit 1\n", {
        mode: 0o755,
      });
      const failing = startBpftraceCapture({ sink: new HostEventRecorder(), env });
      await expect(failing.ready).rejects.toMatchObject({ code: "E_DEPENDENCY" });
      await expect(failing.done).rejects.toThrow(/mount -t tracefs tracefs \/sys\/kernel\/tracing.*--backend strace/);

      writeFileSync(fake, "#!/bin/sh\necho 'Attaching 1 probe...'\necho R\nexit 0\n", { mode: 0o755 });
      const quitting = startBpftraceCapture({ sink: new HostEventRecorder(), env });
      await expect(quitting.ready).resolves.toBeUndefined();
      await expect(quitting.done).rejects.toThrow(/bpftrace ended on its own \(exit status 0\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stop() before the probes are attached ends quietly", async () => {
    const capture = startBpftraceCapture({ sink: new HostEventRecorder() });
    capture.stop();
    const stats = await capture.done;
    expect(stats.syscalls).toBeGreaterThanOrEqual(0);
    await expect(capture.ready).resolves.toBeUndefined();
  }, 20_000);
});
