// Test helper: run a command under `strace -f` and return, per process, the system calls the traced program's own
// code made (from its execve until it executes another program), as x86_64 numbers. The ground truth the static
// models must contain: every observed call in the set, every observed consecutive pair in the digraph.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X86_64_SYSCALLS } from "../../syscalls/x86_64.js";

const NUMBER = new Map<string, number>(X86_64_SYSCALLS.map(([n, name]) => [name, n]));

export interface Observation {
  /** Per process, the calls in order. */
  streams: number[][];
  /** Names strace printed that the x86_64 table does not know. */
  unknown: string[];
}

export function observeCalls(argv: readonly string[], options: { cwd?: string; input?: string } = {}): Observation {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-observe-"));
  try {
    const out = join(dir, "trace");
    const r = spawnSync("strace", ["-f", "-qq", "-o", out, "--", ...argv], {
      cwd: options.cwd,
      input: options.input ?? "",
      stdio: ["pipe", "ignore", "ignore"],
      timeout: 60_000,
    });
    if (r.error !== undefined) throw r.error;
    return parseTrace(readFileSync(out, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseTrace(text: string): Observation {
  const streams = new Map<number, number[]>();
  const done = new Set<number>();
  const unknown = new Set<string>();
  let first = true;
  for (const line of text.split("\n")) {
    const resumed = /^(\d+)\s+<\.\.\. (execve|execveat) resumed>.* = 0$/.exec(line);
    if (resumed !== null) done.add(Number(resumed[1]));
    const m = /^(\d+)\s+([a-z_0-9]+)\(/.exec(line);
    if (m === null) continue;
    const pid = Number(m[1]);
    const name = m[2]!;
    if (first) {
      // The first line is the exec of the traced program by strace's child: its calls start after it.
      first = false;
      streams.set(pid, []);
      continue;
    }
    if (done.has(pid)) continue;
    const n = NUMBER.get(name);
    if (n === undefined) {
      unknown.add(name);
      continue;
    }
    const list = streams.get(pid) ?? [];
    streams.set(pid, list);
    list.push(n);
    if ((name === "execve" || name === "execveat") && / = 0$/.test(line)) done.add(pid);
  }
  return { streams: [...streams.values()], unknown: [...unknown] };
}

/** Observed calls missing from a set. */
export function missingCalls(observed: Observation, set: readonly number[]): number[] {
  const allowed = new Set(set);
  const missing = new Set<number>();
  for (const s of observed.streams) for (const n of s) if (!allowed.has(n)) missing.add(n);
  return [...missing].sort((a, b) => a - b);
}

/** Observed consecutive pairs missing from a digraph. */
export function missingPairs(observed: Observation, pairs: readonly (readonly [number, number])[]): string[] {
  const allowed = new Set(pairs.map(([a, b]) => a * 1024 + b));
  const missing = new Set<string>();
  for (const s of observed.streams) {
    for (let i = 1; i < s.length; i++) if (!allowed.has(s[i - 1]! * 1024 + s[i]!)) missing.add(`${s[i - 1]}->${s[i]}`);
  }
  return [...missing];
}
