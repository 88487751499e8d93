import { type ChildProcess, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import { StraceParser } from "../ingest/straceParser.js";
import { captureStrace, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { findExecutable } from "./executables.js";
import { processInfo, startStraceCapture } from "./straceCapture.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);

const LOOP = "i=0; while [ $i -lt 200 ]; do cat /dev/null; i=$((i+1)); done";

class Collect implements EventSink {
  sources: SourceInfo[] = [];
  streams: number[] = [];
  syscalls: number[] = [];
  notes: { stream: number; note: StreamNote }[] = [];
  ended = 0;
  beginSource(source: SourceInfo): void {
    this.sources.push(source);
  }
  call(stream: number, syscall: number): void {
    this.streams.push(stream);
    this.syscalls.push(syscall);
  }
  note(stream: number, note: StreamNote): void {
    this.notes.push({ stream, note });
  }
  endSource(): void {
    this.ended++;
  }
  count(vocab: Vocabulary, name: string): number {
    const id = vocab.intern(name);
    return this.syscalls.filter((s) => s === id).length;
  }
}

/** `strace -c` rows: syscall name -> calls, and the total row's calls. */
function straceSummary(text: string): { perCall: Map<string, number>; total: number } {
  const perCall = new Map<string, number>();
  let total = -1;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const name = f[f.length - 1];
    if (name === undefined || f.length < 5 || !/^[\d.]+$/.test(f[0] ?? "")) continue;
    const calls = Number(f[3]);
    if (name === "total") total = calls;
    else perCall.set(name, calls);
  }
  return { perCall, total };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function startLoop(script: string): ChildProcess {
  return spawn("/bin/sh", ["-c", script], { stdio: "ignore" });
}

describe("findExecutable", () => {
  it("finds programs on PATH and rejects missing ones", () => {
    const sh = findExecutable("sh", process.env.PATH);
    expect(sh).toMatch(/\/sh$/);
    expect(findExecutable("sh", "")).toBeUndefined();
    expect(findExecutable("no-such-program-homeostat", process.env.PATH)).toBeUndefined();
    expect(findExecutable("/bin/sh", "")).toBe("/bin/sh");
  });
});

describe.skipIf(unavailable !== undefined)("startStraceCapture with a command", () => {
  it("streams a 200-process shell loop: one execve and one exit per process, counts as strace -c", async () => {
    const vocab = new Vocabulary();
    const sink = new Collect();
    const raw: Buffer[] = [];
    const cap = startStraceCapture({
      command: ["/bin/sh", "-c", LOOP],
      sink,
      vocab,
      onRawChunk: (c) => raw.push(Buffer.from(c)),
    });
    const result = await cap.done;
    expect(result.exitCode).toBe(0);
    expect(result.stopped).toBe(false);
    expect(result.skippedLines).toBe(0);

    // The source record names the command and the root pid.
    expect(sink.sources).toHaveLength(1);
    expect(sink.ended).toBe(1);
    expect(sink.sources[0]?.path).toBe("record:/bin/sh");
    expect(sink.sources[0]?.format).toBe("strace");
    expect(sink.sources[0]?.meta?.argv).toEqual(["/bin/sh", "-c", LOOP]);
    expect(sink.sources[0]?.meta?.pid).toBe(result.rootPid);

    // sh plus 200 cats: 201 processes, each exec'd once and exited with 0.
    expect(sink.count(vocab, "execve")).toBe(201);
    const execs = sink.notes.filter((n) => n.note.kind === "exec");
    expect(execs).toHaveLength(201);
    expect(execs[0]).toMatchObject({ stream: result.rootPid, note: { detail: "/bin/sh" } });
    expect(execs.slice(1).every((n) => n.note.detail?.endsWith("/cat") === true)).toBe(true);
    const exits = sink.notes.filter((n) => n.note.kind === "exit");
    expect(exits).toHaveLength(201);
    expect(exits.every((n) => n.note.code === 0)).toBe(true);
    expect(new Set(sink.streams).size).toBe(201);
    expect(result.streams).toBe(201);
    expect(result.calls).toBe(sink.syscalls.length);
    expect(result.execs).toBe(201);

    // Streaming lost nothing: strace's raw text, parsed in one piece, gives the very same calls.
    const again = new Collect();
    const p = new StraceParser({ file: "raw", vocab, sink: again });
    p.write(Buffer.concat(raw));
    p.end();
    expect(again.streams).toEqual(sink.streams);
    expect(again.syscalls).toEqual(sink.syscalls);

    // An independent run under `strace -f -c` counts the same calls, less the exit_groups it leaves out.
    const summary = straceSummary(captureStrace(["-f", "-c"], ["/bin/sh", "-c", LOOP]).text.toString("utf8"));
    expect(summary.total).toBeGreaterThan(1000);
    const exitGroups = sink.count(vocab, "exit_group");
    expect(exitGroups).toBe(201);
    const ours = result.calls - exitGroups;
    expect(Math.abs(ours - summary.total)).toBeLessThanOrEqual(Math.ceil(summary.total * 0.02));
    for (const name of ["execve", "wait4", "openat", "close", "mmap"]) {
      const theirs = summary.perCall.get(name) ?? 0;
      expect(Math.abs(sink.count(vocab, name) - theirs)).toBeLessThanOrEqual(Math.max(2, theirs * 0.02));
    }
  }, 120_000);

  it("reports the exit code, and 128+n for a command killed by signal n", async () => {
    const seven = await startStraceCapture({
      command: ["sh", "-c", "exit 7"],
      sink: new Collect(),
      vocab: new Vocabulary(),
    }).done;
    expect(seven.exitCode).toBe(7);
    const sink = new Collect();
    const killed = await startStraceCapture({
      command: ["sh", "-c", "kill -TERM $$"],
      sink,
      vocab: new Vocabulary(),
    }).done;
    expect(killed.exitCode).toBe(143);
    expect(killed.signal).toBe("SIGTERM");
    expect(sink.notes.some((n) => n.note.kind === "killed" && n.note.detail === "SIGTERM")).toBe(true);
  }, 60_000);

  it("stop() ends a running command and leaves its calls and its end in the sink", async () => {
    const sink = new Collect();
    let exitSeen: number | undefined;
    const cap = startStraceCapture({
      command: ["sh", "-c", "sleep 30; echo never"],
      sink,
      vocab: new Vocabulary(),
      onExit: (r) => {
        exitSeen = r.exitCode;
      },
    });
    await until(() => sink.notes.some((n) => n.note.detail?.endsWith("/sleep") === true), 20_000);
    const t0 = Date.now();
    cap.stop();
    const result = await cap.done;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(result.stopped).toBe(true);
    expect(result.exitCode).toBe(130);
    expect(exitSeen).toBe(130);
    // sh and its sleep child were both traced and both ended by the SIGINT.
    expect(result.streams).toBe(2);
    const ends = sink.notes.filter((n) => n.note.kind === "killed");
    expect(ends.map((n) => n.note.detail)).toEqual(["SIGINT", "SIGINT"]);
    for (const s of new Set(sink.streams)) expect(alive(s)).toBe(false);
  }, 60_000);

  it("throws before running anything for a missing command or strace", () => {
    expect(() =>
      startStraceCapture({
        command: ["no-such-program-homeostat"],
        sink: new Collect(),
        vocab: new Vocabulary(),
      }),
    ).toThrow(expect.objectContaining({ code: "E_NOT_FOUND" }));
    expect(() =>
      startStraceCapture({
        command: ["/bin/true"],
        sink: new Collect(),
        vocab: new Vocabulary(),
        env: { PATH: "/nonexistent-homeostat-dir" },
      }),
    ).toThrow(expect.objectContaining({ code: "E_DEPENDENCY", message: expect.stringMatching(/strace/) }));
  });
});

describe.skipIf(unavailable !== undefined)("startStraceCapture --pid", () => {
  it("attaches to a running loop, follows its children, and detaches on stop() leaving it running", async () => {
    const loop = startLoop("while :; do cat /dev/null; sleep 0.05; done");
    try {
      const pid = loop.pid!;
      await until(() => processInfo(pid).argv[0] === "/bin/sh", 5000);
      const vocab = new Vocabulary();
      const sink = new Collect();
      const cap = startStraceCapture({ pid, sink, vocab });
      expect(sink.sources[0]?.meta).toMatchObject({ pid, argv: ["/bin/sh", "-c", expect.any(String)] });
      // The attached program is named before any of its calls.
      expect(sink.notes[0]).toMatchObject({
        stream: pid,
        note: { kind: "exec", detail: expect.stringMatching(/sh$/) },
      });
      await until(() => sink.notes.filter((n) => n.note.detail?.endsWith("/cat") === true).length >= 3, 20_000);
      cap.stop();
      const result = await cap.done;
      expect(result.stopped).toBe(true);
      expect(result.exitCode).toBe(0);
      expect(result.rootPid).toBe(pid);
      expect(result.streams).toBeGreaterThanOrEqual(4);
      expect(sink.streams).toContain(pid);
      expect(sink.count(vocab, "wait4")).toBeGreaterThan(0);
      expect(alive(pid)).toBe(true);
    } finally {
      loop.kill("SIGKILL");
    }
  }, 60_000);

  it("ends by itself when the attached process exits, with its exit code", async () => {
    const child = startLoop("sleep 1; exit 5");
    const pid = child.pid!;
    await until(() => processInfo(pid).argv[0] === "/bin/sh", 5000);
    const sink = new Collect();
    const result = await startStraceCapture({ pid, sink, vocab: new Vocabulary() }).done;
    expect(result.stopped).toBe(false);
    expect(result.exitCode).toBe(5);
    expect(sink.notes.some((n) => n.stream === pid && n.note.kind === "exit" && n.note.code === 5)).toBe(true);
  }, 60_000);

  it("rejects a pid that does not exist", () => {
    expect(() => startStraceCapture({ pid: 4_000_000, sink: new Collect(), vocab: new Vocabulary() })).toThrow(
      expect.objectContaining({ code: "E_NOT_FOUND" }),
    );
  });
});
