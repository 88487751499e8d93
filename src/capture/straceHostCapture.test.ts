import { realpathSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { syscallTable } from "../syscalls/abi.js";
import type { ExeIdentity, HostEventSink } from "./hostEvents.js";
import { startStraceHostCapture } from "./straceHostCapture.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping strace host capture tests: ${unavailable}`);

interface Recorded {
  syscalls: { pid: number; tid: number; nr: number }[];
  execs: { pid: number; tid: number; exe: ExeIdentity | undefined }[];
  forks: { parentPid: number; childPid: number; childTid: number }[];
  exits: { pid: number; tid: number }[];
}

function recorder(): Recorded & { sink: HostEventSink } {
  const r: Recorded = { syscalls: [], execs: [], forks: [], exits: [] };
  return {
    ...r,
    sink: {
      syscall: (pid, tid, nr) => r.syscalls.push({ pid, tid, nr }),
      exec: (pid, tid, exe) => r.execs.push({ pid, tid, exe }),
      fork: (parentPid, _pt, childPid, childTid) => r.forks.push({ parentPid, childPid, childTid }),
      exit: (pid, tid) => r.exits.push({ pid, tid }),
      lost: () => {},
    },
  };
}

const nr = (name: string) => syscallTable("x86_64").numberOf(name)!;

describe.skipIf(unavailable !== undefined)("strace host capture (a command and its children as host events)", () => {
  it("names each program by path, device and inode, numbers calls as x86_64, and reports forks and exits", async () => {
    const rec = recorder();
    const sh = realpathSync("/bin/sh");
    const cat = realpathSync("/bin/cat");
    const c = startStraceHostCapture({
      command: ["/bin/sh", "-c", "/bin/cat /etc/hostname > /dev/null; /bin/cat /etc/hostname > /dev/null"],
      sink: rec.sink,
      programOutput: "ignore",
    });
    const stats = await c.done;
    const result = await c.result;
    expect(result.exitCode).toBe(0);
    expect(stats.backend).toBe("strace");
    expect(stats.syscalls).toBe(rec.syscalls.length);
    const exes = rec.execs.map((e) => e.exe?.path);
    expect(exes[0]).toBe(sh);
    expect(exes.filter((p) => p === cat)).toHaveLength(2);
    const catStat = statSync(cat);
    const catExec = rec.execs.find((e) => e.exe?.path === cat)!;
    expect(catExec.exe).toEqual({ path: cat, dev: catStat.dev, ino: catStat.ino });
    // The shell forked two children, whose pids are the cat processes.
    const root = rec.execs[0]!.pid;
    const children = rec.forks.filter((f) => f.parentPid === root).map((f) => f.childPid);
    expect(children).toHaveLength(2);
    expect(
      rec.execs
        .filter((e) => e.exe?.path === cat)
        .map((e) => e.pid)
        .sort(),
    ).toEqual([...children].sort());
    // Every process of the capture ended.
    for (const pid of [root, ...children]) expect(rec.exits.some((e) => e.pid === pid)).toBe(true);
    // cat's calls: it opened and read the file and wrote nothing to a terminal.
    const catCalls = new Set(rec.syscalls.filter((s) => s.pid === children[0]).map((s) => s.nr));
    for (const name of ["openat", "read", "write", "exit_group"]) expect(catCalls.has(nr(name))).toBe(true);
    for (const s of rec.syscalls) expect(s.nr).toBeGreaterThanOrEqual(0);
  });

  it("refuses an ambiguous request", () => {
    const rec = recorder();
    expect(() => startStraceHostCapture({ sink: rec.sink })).toThrow(/command or a pid/);
  });
});
