// Test helper: runs the real strace(1) on a real program to produce fixtures, so that parser tests check what
// strace actually writes rather than hand-typed guesses. Used only by tests.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface StraceCapture {
  /** The trace text (the -o file, or stderr when `toStderr`). */
  text: Buffer;
  /** With -ff: each per-process file (name ends in `.<pid>`) and its text. */
  files: { name: string; text: Buffer }[];
  /** strace's exit status (the traced program's, or 128+signal when it was killed). */
  status: number | null;
}

/** Why strace cannot be used here, or undefined when it can (it exists and ptrace is permitted). */
export function straceUnavailableReason(): string | undefined {
  const r = spawnSync("strace", ["-o", "/dev/null", "--", "/bin/true"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.error !== undefined) return `strace cannot be run: ${r.error.message}`;
  if (r.status !== 0) return `strace fails here (ptrace not permitted?): ${r.stderr.trim().slice(0, 200)}`;
  return undefined;
}

/** Whether a command exists on PATH (or as an absolute path). */
export function commandExists(cmd: string): boolean {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/**
 * Runs `strace OPTIONS -o FILE -- COMMAND...` (or with the trace on stderr when `toStderr`) and returns what it
 * wrote. The traced program's stdout is discarded.
 */
export function captureStrace(
  options: readonly string[],
  command: readonly string[],
  settings: { toStderr?: boolean; timeoutMs?: number; cwd?: string } = {},
): StraceCapture {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-strace-"));
  try {
    const out = join(dir, "trace");
    const args = settings.toStderr ? [...options, "--", ...command] : [...options, "-o", out, "--", ...command];
    const r = spawnSync("strace", args, {
      cwd: settings.cwd ?? dir,
      timeout: settings.timeoutMs ?? 60_000,
      maxBuffer: 256 * 1024 * 1024,
      stdio: ["ignore", "ignore", "pipe"],
    });
    if (r.error !== undefined) throw r.error;
    const files: { name: string; text: Buffer }[] = [];
    let text: Buffer = Buffer.alloc(0);
    if (settings.toStderr) {
      text = r.stderr;
    } else {
      for (const name of readdirSync(dir).sort()) {
        const content = readFileSync(join(dir, name));
        if (name === "trace") text = content;
        else if (name.startsWith("trace.")) files.push({ name: join(dir, name), text: content });
      }
    }
    return { text, files, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compiles a C program with the system compiler into `dir`; returns the binary's path, or undefined without cc. */
export function compileC(source: string, dir: string, name: string, flags: readonly string[] = []): string | undefined {
  const src = join(dir, `${name}.c`);
  const bin = join(dir, name);
  writeFileSync(src, source);
  const r = spawnSync("cc", ["-O1", "-o", bin, src, ...flags], { encoding: "utf8", timeout: 60_000 });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return bin;
}
