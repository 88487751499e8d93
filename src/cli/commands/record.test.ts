// CLI tests of `homeostat record`: they run the built package (`npm run build` first) on real programs.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readBinaryTraceFile } from "../../ingest/binaryTrace.js";
import type { EventSink, SourceInfo, StreamNote } from "../../ingest/event.js";
import { straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import { BIN } from "../../testing/paths.js";
import { defaultOutName } from "../actions/record.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);

const work = mkdtempSync(path.join(tmpdir(), "homeostat-record-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: options.cwd ?? work,
    env: options.env ?? { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

class Collect implements EventSink {
  sources: SourceInfo[] = [];
  streams: number[] = [];
  notes: { stream: number; note: StreamNote }[] = [];
  beginSource(source: SourceInfo): void {
    this.sources.push(source);
  }
  call(stream: number): void {
    this.streams.push(stream);
  }
  note(stream: number, note: StreamNote): void {
    this.notes.push({ stream, note });
  }
  endSource(): void {}
}

async function read(file: string) {
  const sink = new Collect();
  const summary = await readBinaryTraceFile(file, new Vocabulary(), sink);
  return { sink, summary };
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `homeostat record ...` in the background; resolves with its exit status and output. */
function background(args: string[], cwd: string) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, exited, out: () => ({ stdout, stderr }) };
}

describe("defaultOutName", () => {
  it("names the file after the program's base name and the UTC time", () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    expect(defaultOutName("/usr/bin/ls", when)).toBe("homeostat-ls-20240102T030405Z.hstr");
    expect(defaultOutName("../weird name;rm", when)).toBe("homeostat-weird_name_rm-20240102T030405Z.hstr");
  });
});

describe.skipIf(unavailable !== undefined)("homeostat record", () => {
  it("runs the command literally (no shell) and leaves its stdout alone", async () => {
    const out = path.join(work, "echo.hstr");
    const args = ["a;b", "$(id)", "*", "--json", "-o", "x"];
    const r = run(["record", "-o", out, "--", "/bin/echo", ...args]);
    expect(r.code).toBe(0);
    // The program's flags (--json, -o) stayed the program's: its output is exactly its arguments.
    expect(r.stdout).toBe(`${args.join(" ")}\n`);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^homeostat: recorded [\d,]+ calls from 1 processes\/threads \(exit status 0\)/);
    expect(r.stderr).toContain(out);
    const { sink, summary } = await read(out);
    expect(summary.complete).toBe(true);
    expect(summary.sources[0]).toMatchObject({
      path: "record:/bin/echo",
      format: "strace",
      meta: { argv: ["/bin/echo", ...args] },
    });
    expect(sink.notes[0]?.note).toMatchObject({ kind: "exec", detail: "/bin/echo" });
    expect(sink.streams.length).toBe(summary.calls);
    expect(summary.calls).toBeGreaterThan(10);
    expect(readdirSync(work).filter((f) => f.includes(".partial"))).toEqual([]);
  }, 60_000);

  it("exits with the command's status and prints a JSON summary; default file name", () => {
    const dir = mkdtempSync(path.join(work, "default-"));
    const r = run(["record", "--json", "--", "sh", "-c", "echo to-stderr >&2; exit 7"], { cwd: dir });
    expect(r.code).toBe(7);
    expect(r.stderr).toBe("to-stderr\n");
    const s = JSON.parse(r.stdout) as { out: string; exitCode: number; calls: number; processes: number };
    expect(s.exitCode).toBe(7);
    expect(s.processes).toBe(1);
    expect(s.out).toMatch(/^homeostat-sh-\d{8}T\d{6}Z\.hstr$/);
    expect(readdirSync(dir)).toEqual([s.out]);
  }, 60_000);

  it("on SIGINT stops the program and leaves a complete file with its calls", async () => {
    const dir = mkdtempSync(path.join(work, "sigint-"));
    const out = path.join(dir, "sleep.hstr");
    const h = background(["record", "-o", out, "--", "sleep", "30"], dir);
    // The partial file appears once the capture runs and the signal handler is in place.
    await until(() => readdirSync(dir).some((f) => f.includes(".partial")), 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    h.child.kill("SIGINT");
    const { code, at } = await h.exited;
    expect(at - t0).toBeLessThan(5000);
    expect(code).toBe(130);
    expect(h.out().stderr).toMatch(/killed by SIGINT, interrupted/);
    const { sink, summary } = await read(out);
    expect(summary.complete).toBe(true);
    const pid = summary.sources[0]?.meta?.pid as number;
    expect(sink.streams.length).toBeGreaterThan(10);
    expect(sink.streams.every((s) => s === pid)).toBe(true);
    expect(sink.notes.map((n) => n.note.kind)).toEqual(["exec", "signal", "killed"]);
    expect(sink.notes[0]?.note.detail).toMatch(/\/sleep$/);
    expect(alive(pid)).toBe(false);
  }, 60_000);

  it("--pid attaches to a running process and its children until it exits", async () => {
    const dir = mkdtempSync(path.join(work, "pid-"));
    const out = path.join(dir, "loop.hstr");
    const loop = spawn("/bin/sh", ["-c", "while :; do cat /dev/null; sleep 0.05; done"], { stdio: "ignore" });
    try {
      const pid = loop.pid!;
      await new Promise((r) => setTimeout(r, 200));
      const h = background(["record", "--json", "--pid", String(pid), "-o", out], dir);
      await until(() => readdirSync(dir).some((f) => f.includes(".partial")), 20_000);
      await new Promise((r) => setTimeout(r, 1500));
      loop.kill("SIGTERM");
      const { code } = await h.exited;
      expect(code).toBe(143);
      const s = JSON.parse(h.out().stdout) as { pid: number; processes: number; signal: string };
      expect(s.pid).toBe(pid);
      expect(s.signal).toBe("SIGTERM");
      const { sink, summary } = await read(out);
      expect(summary.complete).toBe(true);
      expect(summary.sources[0]?.meta).toMatchObject({ pid, argv: ["/bin/sh", "-c", expect.any(String)] });
      expect(new Set(sink.streams).size).toBe(s.processes);
      expect(s.processes).toBeGreaterThanOrEqual(3);
      const execs = sink.notes.filter((n) => n.note.kind === "exec").map((n) => n.note.detail ?? "");
      expect(execs.some((d) => d.endsWith("/cat"))).toBe(true);
      expect(sink.notes.some((n) => n.stream === pid && n.note.kind === "killed")).toBe(true);
    } finally {
      loop.kill("SIGKILL");
    }
  }, 60_000);

  it("names strace when it is missing (one line, exit 3: environment, no file)", () => {
    const empty = mkdtempSync(path.join(work, "empty-path-"));
    const dir = mkdtempSync(path.join(work, "nostrace-"));
    const r = run(["record", "--", "/bin/true"], { cwd: dir, env: { PATH: empty } });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/E_DEPENDENCY.*strace is not installed/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("requires `--` before the program, and a program or --pid", () => {
    const noDashes = run(["record", "ls", "-la"]);
    expect(noDashes.code).toBe(2);
    expect(noDashes.stderr).toMatch(/E_USAGE.*`--`/);
    const nothing = run(["record"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/E_USAGE.*nothing to record/);
  });

  const canDropPrivileges = process.getuid?.() === 0 && existsSync("/usr/bin/setpriv");
  if (!canDropPrivileges) console.log("skipped: the E_PERMISSION test needs root and /usr/bin/setpriv");
  it.skipIf(!canDropPrivileges)(
    "reports a refused attach as E_PERMISSION with advice",
    () => {
      const dir = path.join(work, "nobody");
      mkdirSync(dir);
      chmodSync(work, 0o755);
      chmodSync(dir, 0o777);
      const r = spawnSync(
        "/usr/bin/setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, BIN, "record", "--pid", "1"],
        { cwd: dir, encoding: "utf8", timeout: 60_000 },
      );
      expect(r.status).toBe(3);
      const last = r.stderr.trim().split("\n").pop() ?? "";
      expect(last).toMatch(/E_PERMISSION.*ptrace is not permitted.*pid 1/);
      expect(readdirSync(dir)).toEqual([]);
    },
    60_000,
  );
});
