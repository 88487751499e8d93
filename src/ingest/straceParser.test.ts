// Tests of the strace text parser against REAL strace output: every fixture is produced here by running strace on
// real programs, and call counts are checked against strace's own -C summary of the same run (plus the calls that
// never returned, which -C leaves out) or against an independent regex-based count of the same text.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isHomeostatError, ParseError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { StreamNote } from "./event.js";
import type { ParserOptions } from "./format.js";
import { pidFromStraceFileName, StraceParser, straceFormat } from "./straceParser.js";
import { captureStrace, commandExists, compileC, straceUnavailableReason } from "./testing/straceCapture.js";

// ------------------------------------------------------------------------------------------------ helpers

interface CallEv {
  stream: number;
  name: string;
  time: number;
  ret: number;
  args: string | undefined;
}
interface NoteEv {
  stream: number;
  note: StreamNote;
}

interface Parsed {
  calls: CallEv[];
  notes: NoteEv[];
  order: string[];
  vocab: Vocabulary;
  parser: StraceParser;
}

function parse(input: Buffer | string, opts: Partial<ParserOptions> = {}, chunkSizes?: number[]): Parsed {
  const vocab = opts.vocab ?? new Vocabulary();
  const calls: CallEv[] = [];
  const notes: NoteEv[] = [];
  const order: string[] = [];
  const parser = new StraceParser({
    file: "trace.txt",
    ...opts,
    vocab,
    sink: {
      beginSource() {},
      endSource() {},
      call(stream, syscall, time, ret, args) {
        calls.push({ stream, name: vocab.token(syscall), time, ret, args });
        order.push(`c ${stream} ${vocab.token(syscall)} ${time} ${ret} ${args ?? ""}`);
      },
      note(stream, note) {
        notes.push({ stream, note });
        order.push(`n ${stream} ${JSON.stringify(note)}`);
      },
    },
  });
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  if (chunkSizes === undefined) parser.write(bytes);
  else {
    let off = 0;
    let i = 0;
    while (off < bytes.length) {
      const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
      parser.write(bytes.subarray(off, off + n));
      off += n;
    }
  }
  parser.end();
  return { calls, notes, order, vocab, parser };
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return m;
}

function sorted(m: Map<string, number>): [string, number][] {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** strace names an unknown syscall `syscall_0x1c3`; the vocabulary calls it `syscall_451`. */
function canonicalName(name: string): string {
  const m = /^syscall_0x([0-9a-f]+)$/.exec(name);
  return m ? `syscall_${Number.parseInt(m[1]!, 16)}` : name;
}

/** The trace lines of a capture without strace's own summary table (which -C appends) and its messages. */
function traceLines(text: string): string[] {
  const lines = text.split("\n");
  const cut = lines.findIndex((l) => l.startsWith("% time"));
  return (cut >= 0 ? lines.slice(0, cut) : lines).filter((l) => l.length > 0 && !l.startsWith("strace: "));
}

/** Strips the leader (pid, times, -n/-i brackets) with a regular expression: an independent reading. */
const LEADER =
  /^(?:\[pid +(\d+)(?:<[^>]*>)?\] |(\d+)(?:<[^>]*>)? +)?(?:(?:\d\d:\d\d:\d\d(?:\.\d+)?|\s*\d+\.\d+) +)?(?:\(\+ *\d+\.\d+\) +)?(?:\[[ 0-9a-fx?]+\] +)*/;

function body(line: string): { pid: string | undefined; body: string } {
  const m = LEADER.exec(line);
  const pid = m?.[1] ?? m?.[2];
  return { pid, body: line.slice(m?.[0].length ?? 0) };
}

/** Reference count: every line that starts a call (`name(`), whether it finishes there or later resumes. */
function referenceStarts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of traceLines(text)) {
    if (line.startsWith(" > ") || line.startsWith(" | ")) continue;
    const b = body(line).body;
    const name = /^([A-Za-z_][A-Za-z0-9_]*)\(/.exec(b)?.[1];
    if (name !== undefined) m.set(canonicalName(name), (m.get(canonicalName(name)) ?? 0) + 1);
  }
  return m;
}

/**
 * Calls that never returned, which strace -c does not count: a line ending in a bare `= ?`, and a call left
 * `<unfinished ...>` that its thread never resumes (the thread was killed inside it, e.g. by another thread's
 * execve; strace then sometimes names the call after that execve). The execve of the pid named by `superseded by
 * execve in pid N` did return (under the leader's pid).
 */
function neverReturned(text: string): Map<string, number> {
  const m = new Map<string, number>();
  const add = (name: string): void => {
    m.set(canonicalName(name), (m.get(canonicalName(name)) ?? 0) + 1);
  };
  const pending = new Map<string, string>();
  for (const line of traceLines(text)) {
    const { pid = "", body: b } = body(line);
    const resumed = /^<\.\.\. ([A-Za-z0-9_]+) resumed>/.exec(b)?.[1];
    const started = resumed === undefined ? /^([A-Za-z0-9_]+)\(/.exec(b)?.[1] : undefined;
    if (resumed !== undefined) {
      if (pending.get(pid) === resumed) pending.delete(pid);
    }
    const superseded = /^\+\+\+ superseded by execve in pid (\d+) /.exec(b)?.[1];
    if (superseded !== undefined && pending.get(superseded) === "execve") pending.delete(superseded);
    if (/\)\s+= \?$/.test(line)) {
      const name = resumed ?? started;
      if (name !== undefined) add(name);
      continue;
    }
    if (started !== undefined && b.endsWith("<unfinished ...>")) pending.set(pid, started);
  }
  for (const name of pending.values()) add(name);
  return m;
}

interface Summary {
  calls: Map<string, number>;
  errors: number;
  total: number;
}

/** strace's own -c/-C table: `% time seconds usecs/call calls [errors] syscall`. */
function summaryOf(text: string): Summary {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("% time"));
  expect(start, "the capture has a -C summary").toBeGreaterThanOrEqual(0);
  const calls = new Map<string, number>();
  let errors = 0;
  let total = -1;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("---") || line.trim().length === 0) continue;
    const t = line.trim().split(/\s+/);
    const name = t[t.length - 1]!;
    const n = Number(t[3]);
    const errs = t.length === 6 ? Number(t[4]) : 0;
    if (name === "total") {
      total = n;
      expect(errs).toBe(errors);
      break;
    }
    calls.set(canonicalName(name), n);
    errors += errs;
  }
  expect(total).toBeGreaterThan(0);
  return { calls, errors, total };
}

/**
 * What the parser must emit per syscall: strace's count plus the never-returned calls, plus calls strace has no
 * name for (strace 6.1's counter leaves `syscall_0x...` calls out of its table and total).
 */
function expectedFromSummary(text: string): Map<string, number> {
  const s = summaryOf(text);
  const exp = new Map(s.calls);
  for (const [name, n] of neverReturned(text)) exp.set(name, (exp.get(name) ?? 0) + n);
  for (const [name, n] of referenceStarts(text)) {
    if (name.startsWith("syscall_") && !s.calls.has(name)) exp.set(name, n);
  }
  return exp;
}

function pidsIn(text: string): Set<number> {
  const s = new Set<number>();
  for (const line of traceLines(text)) {
    const pid = body(line).pid;
    if (pid !== undefined) s.add(Number(pid));
  }
  return s;
}

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping real-strace tests: ${unavailable}`);
const hasStrace = unavailable === undefined;

const SH_LS_CAT = ["sh", "-c", "ls / >/dev/null; cat /etc/hostname >/dev/null"];
const SH_BG_SLEEPS = ["sh", "-c", "sleep 0.1 & sleep 0.1 & wait"];

// ------------------------------------------------------------------------------------------------ real captures

describe.skipIf(!hasStrace)("strace parser on real strace output", () => {
  it("strace -f -o: per-syscall counts equal strace -C's plus the calls that never returned", () => {
    const cap = captureStrace(["-f", "-C"], SH_LS_CAT);
    const text = cap.text.toString("utf8");
    const { calls, notes, parser } = parse(cap.text);
    expect(parser.skipped).toBe(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(referenceStarts(text)));
    // Streams are the pids, and each process exits once.
    expect(new Set(calls.map((c) => c.stream))).toEqual(pidsIn(text));
    const exits = notes.filter((n) => n.note.kind === "exit");
    expect(exits.length).toBe(pidsIn(text).size);
    expect(new Set(exits.map((n) => n.stream))).toEqual(pidsIn(text));
    // exec notes name the programs (sh, ls, cat), one per process here.
    const execs = notes.filter((n) => n.note.kind === "exec").map((n) => n.note.detail ?? "");
    expect(execs.some((p) => p.endsWith("/ls"))).toBe(true);
    expect(execs.some((p) => p.endsWith("/cat"))).toBe(true);
    // Errors: -C's error count equals the calls returning -1 plus those interrupted for a restart (`= ? ERESTART`).
    const restarts = traceLines(text).filter((l) => /= \? ERESTART/.test(l)).length;
    expect(calls.filter((c) => c.ret === -1).length + restarts).toBe(summaryOf(text).errors);
    // Hex returns: brk and mmap return addresses.
    for (const c of calls.filter((c) => c.name === "brk" || (c.name === "mmap" && c.ret !== -1))) {
      expect(c.ret).toBeGreaterThan(0x1000);
    }
  });

  it("-tt -T -y with background children: unfinished/resumed pairs count once, times of day", () => {
    const before = new Date();
    const cap = captureStrace(["-f", "-tt", "-T", "-y", "-C"], SH_BG_SLEEPS);
    const text = cap.text.toString("utf8");
    const unfinished = traceLines(text).filter((l) => l.endsWith("<unfinished ...>")).length;
    expect(unfinished, "the capture has unfinished calls").toBeGreaterThan(0);
    const { calls, parser } = parse(cap.text);
    expect(parser.skipped).toBe(0);
    expect(parser.pendingCount).toBe(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
    // Time of day (local, as strace prints it), within a few minutes of now.
    const tod = before.getHours() * 3600 + before.getMinutes() * 60 + before.getSeconds();
    for (const c of calls) {
      expect(Number.isFinite(c.time)).toBe(true);
      const diff = Math.abs(((c.time - tod + 43_200) % 86_400) - 43_200);
      expect(diff).toBeLessThan(300);
    }
    // -y decorations do not hide return values: every openat returned an fd or -1.
    const opens = calls.filter((c) => c.name === "openat");
    expect(opens.length).toBeGreaterThan(0);
    for (const c of opens) expect(Number.isInteger(c.ret) && c.ret >= -1).toBe(true);
    // A resumed call keeps the time it started: per stream, times never go backwards.
    const last = new Map<number, number>();
    for (const c of calls) {
      expect(c.time).toBeGreaterThanOrEqual(last.get(c.stream) ?? 0);
      last.set(c.stream, c.time);
    }
  });

  it("-ttt gives epoch seconds", () => {
    const now = Date.now() / 1000;
    const cap = captureStrace(["-f", "-ttt", "-C"], SH_LS_CAT);
    const { calls } = parse(cap.text);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(cap.text.toString())));
    for (const c of calls) expect(Math.abs(c.time - now)).toBeLessThan(300);
  });

  it("-t gives whole seconds of the day", () => {
    const cap = captureStrace(["-t"], ["/bin/true"]);
    const { calls } = parse(cap.text);
    expect(calls.length).toBeGreaterThan(5);
    for (const c of calls) {
      expect(Number.isInteger(c.time)).toBe(true);
      expect(c.time).toBeGreaterThanOrEqual(0);
      expect(c.time).toBeLessThan(86_400 * 2);
    }
  });

  it("-r relative timestamps (with and without -f) are summed from 0", () => {
    for (const opts of [["-r"], ["-f", "-r"], ["-f", "-tt", "-r"]]) {
      const cap = captureStrace([...opts, "-C"], SH_LS_CAT);
      const text = cap.text.toString("utf8");
      const { calls, parser } = parse(cap.text);
      expect(parser.skipped).toBe(0);
      expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
      if (opts.includes("-tt")) continue; // then the absolute time wins
      expect(calls[0]!.time).toBe(0);
      // Sum of the printed deltas, read with a regex.
      const deltas = traceLines(text).map((l) => Number(/^(?:\d+ +)?\s*(\d+\.\d+) /.exec(l)?.[1] ?? Number.NaN));
      const sum = deltas.filter((d) => Number.isFinite(d)).reduce((a, b) => a + b, 0);
      const lastTime = Math.max(...calls.map((c) => c.time));
      expect(lastTime).toBeLessThanOrEqual(sum + 1e-6);
      expect(lastTime).toBeGreaterThan(0);
    }
  });

  it("-ff per-pid files: stream from the file name, counts equal an independent count", () => {
    const cap = captureStrace(["-ff"], SH_BG_SLEEPS);
    expect(cap.files.length).toBeGreaterThanOrEqual(3);
    let total = 0;
    let expected = 0;
    for (const f of cap.files) {
      const pid = pidFromStraceFileName(f.name);
      expect(pid).toBeDefined();
      const { calls, notes, parser } = parse(f.text, { defaultStream: pid!, file: f.name });
      expect(parser.skipped).toBe(0);
      expect(new Set(calls.map((c) => c.stream))).toEqual(new Set([pid]));
      expect(notes.filter((n) => n.note.kind === "exit").length).toBe(1);
      expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(referenceStarts(f.text.toString())));
      total += calls.length;
      expected += traceLines(f.text.toString()).filter((l) => /^[a-z_0-9]+\(/.test(l)).length;
    }
    expect(total).toBe(expected);
  });

  it("-X raw and -e raw=all: same counts; exec path only when printed", () => {
    for (const opts of [
      ["-X", "raw"],
      ["-e", "raw=all"],
      ["-X", "verbose"],
    ]) {
      const cap = captureStrace(["-f", "-C", ...opts], SH_LS_CAT);
      const text = cap.text.toString("utf8");
      const { calls, notes, parser } = parse(cap.text);
      expect(parser.skipped).toBe(0);
      expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
      const execs = notes.filter((n) => n.note.kind === "exec");
      expect(execs.length).toBe(3);
      const printsPath = /execve\("/.test(text);
      for (const e of execs) expect(e.note.detail !== undefined).toBe(printsPath);
      // raw=all prints every return in hex: mmap's are still addresses.
      for (const c of calls.filter((c) => c.name === "mmap")) expect(c.ret).toBeGreaterThan(0x1000);
    }
  });

  it("-k stack traces, -e read=/write= dumps, -n/-i, --decode-pids=comm, -Y are skipped or understood", () => {
    for (const opts of [["-k"], ["-e", "read=all", "-e", "write=all"], ["-n", "-i"], ["--decode-pids=comm"], ["-Y"]]) {
      const cap = captureStrace(["-f", "-C", ...opts], ["sh", "-c", "cat /etc/hostname; ls / >/dev/null"]);
      const text = cap.text.toString("utf8");
      const { calls, parser } = parse(cap.text);
      expect(parser.skipped, opts.join(" ")).toBe(0);
      expect(sorted(countBy(calls, (c) => c.name)), opts.join(" ")).toEqual(sorted(expectedFromSummary(text)));
      expect(new Set(calls.map((c) => c.stream))).toEqual(pidsIn(text));
    }
  });

  it("strings with quotes, parentheses, `) = ` and `<unfinished ...>` inside; truncated strings", () => {
    const tricky = 'a "b" c) = 7 (x) <unfinished ...>';
    const cap = captureStrace(["-e", "trace=write", "-s", "200", "-C"], ["printf", `${tricky}\\n`]);
    const text = cap.text.toString("utf8");
    const { calls, parser } = parse(cap.text, { keepArgs: true });
    expect(parser.skipped).toBe(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
    const w = calls.find((c) => c.name === "write");
    expect(w).toBeDefined();
    expect(w!.ret).toBe(Buffer.byteLength(tricky) + 1);
    expect(w!.args).toContain('\\"b\\" c) = 7');
    // -s 5 truncates strings with `...`.
    const cut = captureStrace(["-e", "trace=write", "-s", "5"], ["printf", `${tricky}\\n`]);
    const p2 = parse(cut.text, { keepArgs: true });
    expect(p2.calls.find((c) => c.name === "write")!.args).toMatch(/^1, "a \\"b\\""\.\.\., \d+$/);
  });

  it("-y paths and -yy sockets with `) = `, `(` and an escaped `>` inside", () => {
    const dir = mkdtempSync(join(tmpdir(), "homeostat-we>ird) = 5 ("));
    try {
      const cap = captureStrace(["-f", "-y", "-C"], ["sh", "-c", "cat /etc/hostname </dev/null >f; cat f"], {
        cwd: dir,
      });
      const text = cap.text.toString("utf8");
      expect(text).toContain("we\\76ird) = 5 (");
      const { calls, parser } = parse(cap.text);
      expect(parser.skipped).toBe(0);
      expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
      // `openat(...) = 3</tmp/...we\76ird) = 5 (.../f>`: the return value is the fd, not the 5 in the path.
      const fds = calls.filter((c) => c.name === "openat" && c.ret >= 0).map((c) => c.ret);
      expect(fds.length).toBeGreaterThan(0);
      expect(fds.every((fd) => fd === 3)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (!commandExists("python3")) {
      console.log("skipping -yy socket capture: python3 is not installed");
      return;
    }
    const py =
      "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); c=socket.create_connection(s.getsockname()); a,_=s.accept(); a.send(b'x')";
    const sock = captureStrace(["-f", "-yy", "-C"], ["python3", "-c", py]);
    const stext = sock.text.toString("utf8");
    const sp = parse(sock.text);
    expect(sp.parser.skipped).toBe(0);
    expect(sorted(countBy(sp.calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(stext)));
    expect(sp.calls.filter((c) => c.name === "sendto").map((c) => c.ret)).toContain(1);
  });

  it("a program killed by SIGSEGV, and a child killed by SIGKILL inside a call", () => {
    const seg = captureStrace(["-f", "-C"], ["sh", "-c", "kill -SEGV $$"]);
    const p1 = parse(seg.text);
    const killed = p1.notes.filter((n) => n.note.kind === "killed");
    expect(killed.map((n) => n.note.detail)).toEqual(["SIGSEGV"]);
    expect(p1.notes.some((n) => n.note.kind === "signal" && n.note.detail === "SIGSEGV")).toBe(true);
    expect(sorted(countBy(p1.calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(seg.text.toString())));

    const cap = captureStrace(["-f", "-C"], ["sh", "-c", "sleep 5 & sleep 0.3; kill -9 $!; wait"]);
    const text = cap.text.toString("utf8");
    const { calls, notes, parser } = parse(cap.text);
    expect(parser.skipped).toBe(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
    const k = notes.filter((n) => n.note.kind === "killed");
    expect(k.length).toBe(1);
    expect(k[0]!.note.detail).toBe("SIGKILL");
    // The killed process's last call never returned: emitted once, ret NaN, before its `killed` note.
    const victim = k[0]!.stream;
    const mine = calls.filter((c) => c.stream === victim);
    expect(Number.isNaN(mine[mine.length - 1]!.ret)).toBe(true);
  });

  it("a truncated trace (strace killed): unfinished calls are still emitted once, at end()", () => {
    const cap = captureStrace(["-f"], SH_BG_SLEEPS);
    const lines = cap.text.toString("utf8").split("\n");
    // Cut right after the first unfinished line: that call must still count, with ret NaN.
    const at = lines.findIndex((l) => l.endsWith("<unfinished ...>"));
    expect(at).toBeGreaterThanOrEqual(0);
    const head = `${lines.slice(0, at + 1).join("\n")}\n`;
    const { calls } = parse(head);
    expect(calls.length).toBe([...referenceStarts(head).values()].reduce((a, b) => a + b, 0));
    expect(Number.isNaN(calls[calls.length - 1]!.ret)).toBe(true);
  });

  it("unknown syscalls `syscall_0x...` become `syscall_<decimal>`", () => {
    if (!commandExists("perl")) {
      console.log("skipping unknown-syscall capture: perl is not installed");
      return;
    }
    const cap = captureStrace(["-f", "-C"], ["perl", "-e", "syscall(1000); syscall(451); syscall(0x3ff)"]);
    const text = cap.text.toString("utf8");
    expect(text).toContain("syscall_0x3e8(");
    const { calls, vocab } = parse(cap.text);
    expect(vocab.lookup("syscall_1000")).toBeGreaterThanOrEqual(0);
    expect(vocab.lookup("syscall_1023")).toBeGreaterThanOrEqual(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
  });

  describe("threads", () => {
    const dir = mkdtempSync(join(tmpdir(), "homeostat-thr-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const source = `
#include <pthread.h>
#include <unistd.h>
static pthread_barrier_t done;
static void *work(void *arg) {
  long n = (long)arg;
  for (int i = 0; i < 20; i++) { getpid(); usleep(500); }
  /* The execve kills the other threads: wait until every loop has finished, so the count is exact. */
  pthread_barrier_wait(&done);
  if (n == 3) { char *argv[] = {"/bin/true", 0}; char *envp[] = {0}; execve("/bin/true", argv, envp); }
  return 0;
}
int main(void) {
  pthread_t t[4];
  pthread_barrier_init(&done, 0, 4);
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, work, (void *)i);
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  return 0;
}`;
    const bin = commandExists("cc") ? compileC(source, dir, "threads", ["-pthread"]) : undefined;
    if (bin === undefined) console.log("skipping thread capture: no C compiler");

    it.skipIf(bin === undefined)("threads and an execve from a non-leader thread (`superseded by execve`)", () => {
      for (const opts of [["-f"], ["-f", "-tt"]]) {
        const cap = captureStrace([...opts, "-C"], [bin!]);
        const text = cap.text.toString("utf8");
        const { calls, notes, parser } = parse(cap.text);
        expect(parser.skipped).toBe(0);
        expect(parser.pendingCount).toBe(0);
        expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(expectedFromSummary(text)));
        // The leader's pid runs /bin/true in the end (the execve of another thread resumes in it).
        const leader = Number(body(traceLines(text)[0]!).pid);
        const execs = notes.filter((n) => n.note.kind === "exec" && n.stream === leader).map((n) => n.note.detail);
        if (text.includes("superseded by execve")) expect(execs).toEqual([bin, "/bin/true"]);
        expect(calls.filter((c) => c.name === "getpid").length).toBe(80);
      }
      // -ff: the execve starts in the thread's file (`<pid changed to L ...>`) and returns in the leader's;
      // counted once over all files.
      const ff = captureStrace(["-ff"], [bin!]);
      let total = 0;
      let expected = 0;
      const execsByPid = new Map<number, (string | undefined)[]>();
      for (const f of ff.files) {
        const pid = pidFromStraceFileName(f.name)!;
        const { calls, notes, parser } = parse(f.text, { defaultStream: pid });
        expect(parser.skipped).toBe(0);
        total += calls.length;
        expected += [...referenceStarts(f.text.toString()).values()].reduce((a, b) => a + b, 0);
        execsByPid.set(
          pid,
          notes.filter((n) => n.note.kind === "exec").map((n) => n.note.detail),
        );
      }
      expect(total).toBe(expected);
      const leaderExecs = [...execsByPid.values()].find((e) => e.length === 2);
      expect(leaderExecs?.[0]).toBe(bin);
    });
  });

  it("strace -f writing to stderr (no -o): unprefixed lines join their process's stream", () => {
    const cap = captureStrace(["-f"], ["sh", "-c", "ls / >/dev/null & wait; cat /etc/hostname >/dev/null"], {
      toStderr: true,
    });
    const text = cap.text.toString("utf8");
    expect(text).toMatch(/^\[pid +\d+\] /m);
    // strace writes this message straight to stderr, often into the middle of a call line.
    expect(text).toMatch(/strace: Process \d+ attached$/m);
    const { calls, notes, parser } = parse(cap.text);
    expect(parser.skipped).toBe(0);
    expect(sorted(countBy(calls, (c) => c.name))).toEqual(sorted(referenceStarts(text)));
    // Three processes: sh, ls and cat; each stream runs one program and exits once.
    const exits = notes.filter((n) => n.note.kind === "exit");
    expect(exits.length).toBe(3);
    const streams = new Set(calls.map((c) => c.stream));
    expect(streams.size).toBe(3);
    expect(new Set(exits.map((n) => n.stream))).toEqual(streams);
    // The shell: stream 0 (its first lines had no prefix), it ran sh and waited for its children.
    const sh = calls.filter((c) => c.stream === 0);
    expect(sh[0]!.name).toBe("execve");
    expect(sh.some((c) => c.name === "wait4")).toBe(true);
    expect(sh[sh.length - 1]!.name).toBe("exit_group");
  });

  it("parses identically whatever the chunk sizes", async () => {
    const fc = (await import("fast-check")).default;
    const cap = captureStrace(["-f", "-tt", "-T", "-y"], SH_BG_SLEEPS);
    const whole = parse(cap.text, { keepArgs: true }).order;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        expect(parse(cap.text, { keepArgs: true }, sizes).order).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });

  it("sniff recognises real strace output of every flavour", () => {
    for (const opts of [[], ["-f"], ["-ttt"], ["-f", "-tt", "-T", "-y"], ["-r"], ["-X", "raw"]]) {
      const cap = captureStrace(opts, SH_LS_CAT);
      expect(straceFormat.sniff(cap.text.subarray(0, 65_536), "trace.txt"), opts.join(" ")).toBeGreaterThanOrEqual(0.9);
      // A head cut mid-line is still recognised.
      expect(straceFormat.sniff(cap.text.subarray(0, 1000), "trace.txt")).toBeGreaterThanOrEqual(0.9);
    }
    const toErr = captureStrace(["-f"], SH_BG_SLEEPS, { toStderr: true });
    expect(straceFormat.sniff(toErr.text.subarray(0, 65_536), "x")).toBeGreaterThanOrEqual(0.9);
  });
});

// ------------------------------------------------------------------------------------------------ sniffing others

describe("sniff does not claim other formats", () => {
  const datasets = resolve(import.meta.dirname, "../../../shared/datasets");
  const adfa = join(datasets, "adfa-ld/Training_Data_Master/UTD-0001.txt");
  const lidds = join(datasets, "lid-ds/sample-2021-bruteforce/aggressive_nightingale_1018.sc");

  it("UNM-style `pid number` pairs, digits, text, binary", () => {
    const unm = Array.from({ length: 200 }, (_, i) => `${1000 + (i % 3)} ${(i * 7) % 120}`).join("\n");
    expect(straceFormat.sniff(Buffer.from(unm), "sendmail.int")).toBe(0);
    const numbers = Array.from({ length: 300 }, (_, i) => (i * 13) % 340).join(" ");
    expect(straceFormat.sniff(Buffer.from(numbers), "UTD-0001.txt")).toBe(0);
    expect(straceFormat.sniff(Buffer.from("The quick brown fox (jumps) over = the lazy dog.\n"), "a.txt")).toBe(0);
    const bin = new Uint8Array(4096);
    for (let i = 0; i < bin.length; i++) bin[i] = (i * 131 + 7) & 0xff;
    expect(straceFormat.sniff(bin, "a.bin")).toBe(0);
    expect(straceFormat.sniff(new Uint8Array(0), "empty")).toBe(0);
  });

  it.skipIf(!existsSafe(adfa))("ADFA-LD trace", () => {
    expect(straceFormat.sniff(readFileSync(adfa).subarray(0, 65_536), adfa)).toBe(0);
  });

  it.skipIf(!existsSafe(lidds))("LID-DS .sc recording", () => {
    expect(straceFormat.sniff(readFileSync(lidds).subarray(0, 65_536), lidds)).toBe(0);
  });
  if (!existsSafe(adfa) || !existsSafe(lidds))
    console.log(`datasets not found under ${datasets}: some sniff tests skipped`);
});

function existsSafe(path: string): boolean {
  return existsSync(path);
}

// ------------------------------------------------------------------------------------------------ errors and helpers

describe("thread teardown artifacts (lines taken from real strace 6.1 -ff/-f captures)", () => {
  it("`???() = ?` is no call; a call left unfinished by a killed thread still counts once", () => {
    const ff =
      "getpid()                                = 8214\nfutex(0x562bbaca5084, FUTEX_WAIT_PRIVATE, 0, NULL) = 0\n???()                                   = ?\n+++ exited with 0 +++\n";
    const a = parse(ff, { defaultStream: 8215 });
    expect(a.parser.skipped).toBe(0);
    expect(a.calls.map((c) => c.name)).toEqual(["getpid", "futex"]);
    const f = [
      "3357  rt_sigprocmask(SIG_BLOCK, ~[RT_1],  <unfinished ...>",
      "3358  <... rt_sigprocmask resumed> <unfinished ...>) = ?",
      "3356  ???()                                   = ?",
      "3359  ???( <unfinished ...>",
      "3359  <... ??? resumed>)                     = ?",
      "3357  +++ exited with 0 +++",
      "",
    ].join("\n");
    const b = parse(f);
    expect(b.calls.map((c) => [c.name, c.stream, Number.isNaN(c.ret)])).toEqual([
      ["rt_sigprocmask", 3358, true],
      ["rt_sigprocmask", 3357, true],
    ]);
  });
});

describe("bad input", () => {
  it("a non-strace line is a ParseError naming file, line, column and an excerpt", () => {
    const cap = hasStrace ? captureStrace([], ["/bin/true"]).text.toString() : "";
    const good = cap.split("\n").filter((l) => l.length > 0);
    const text = [...good.slice(0, 3), "this is not strace output", ...good.slice(3)].join("\n");
    let err: unknown;
    try {
      parse(text, { file: "x.strace" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    const pe = err as ParseError;
    expect(pe.code).toBe("E_PARSE");
    expect(pe.location.file).toBe("x.strace");
    expect(pe.location.line).toBe(Math.min(3, good.length) + 1);
    expect(pe.location.column).toBeGreaterThanOrEqual(1);
    expect(pe.location.excerpt).toContain("this is not strace");
  });

  it("lenient mode skips and counts bad lines and keeps the good ones", () => {
    const lines = ["\u0000\u0001binary", "hello world", "close(3) = 0", "read(3, 5) = banana", "brk(NULL) = 0x5000"];
    const skipped: ParseError[] = [];
    const { calls, parser } = parse(lines.join("\n"), { lenient: true, onSkip: (e) => skipped.push(e) });
    expect(calls.map((c) => [c.name, c.ret])).toEqual([
      ["close", 0],
      ["brk", 0x5000],
    ]);
    expect(parser.skipped).toBe(3);
    expect(skipped.map((e) => e.location.line)).toEqual([1, 2, 4]);
  });

  it("a line longer than maxLineBytes is E_LIMIT, even when lenient", () => {
    const long = `write(1, "${"x".repeat(5000)}", 5000) = 5000\n`;
    for (const lenient of [false, true]) {
      let err: unknown;
      try {
        parse(long, { maxLineBytes: 1000, lenient });
      } catch (e) {
        err = e;
      }
      expect(isHomeostatError(err) && err.code).toBe("E_LIMIT");
    }
    expect(parse(long, { maxLineBytes: 6000 }).calls.length).toBe(1);
  });

  it("pathological lines are linear: no catastrophic backtracking", () => {
    const n = 1_000_000;
    const patterns = [
      ") ".repeat(n / 2),
      '"\\'.repeat(n / 2),
      `f(${"(".repeat(n)}`,
      `f(${") =".repeat(n / 3)}`,
      `f(${'") = 1 "'.repeat(n / 9)}`,
    ];
    for (const p of patterns) {
      const t0 = performance.now();
      parse(`${p}\n${p}`, { lenient: true });
      expect(performance.now() - t0).toBeLessThan(5000);
    }
    // Many bad lines in one chunk: no search may run past its own line (else this is quadratic: ~100 GB).
    const pad = "x".repeat(60);
    const many = ["1<", "10:00:00 (+", "execveat(3<", '"', "a(b", "<... "].map((l) => `${l}${pad}\n`.repeat(30_000));
    many.push(`% time\n${"  1.0 x\n".repeat(300_000)}`);
    for (const text of many) {
      const t0 = performance.now();
      parse(text, { lenient: true });
      expect(performance.now() - t0, text.slice(0, 12)).toBeLessThan(5000);
    }
  });

  it("unfinished calls per stream are bounded", () => {
    const lines: string[] = [];
    for (let pid = 1; pid <= 70_000; pid++) lines.push(`${pid} read(0,  <unfinished ...>`);
    const { calls, parser } = parse(lines.join("\n"));
    expect(calls.length).toBe(70_000);
    expect(parser.pendingCount).toBe(0);
  });
});

describe("pidFromStraceFileName", () => {
  it("reads the pid suffix of -ff files", () => {
    expect(pidFromStraceFileName("/tmp/out.1234")).toBe(1234);
    expect(pidFromStraceFileName("trace.txt.77")).toBe(77);
    expect(pidFromStraceFileName("caps.tar.gz:run/trace.4194304")).toBe(4194304);
    expect(pidFromStraceFileName("trace.txt")).toBeUndefined();
    expect(pidFromStraceFileName("trace.4194305")).toBeUndefined();
    expect(pidFromStraceFileName("trace.0")).toBeUndefined();
    expect(pidFromStraceFileName(".123")).toBeUndefined();
    expect(pidFromStraceFileName("dir.5/trace")).toBeUndefined();
  });
});
