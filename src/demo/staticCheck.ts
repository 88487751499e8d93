// The demo's zero-training view: what the static model of the server (src/static, Wagner & Dean's set model: the
// system calls the binary's code, its libraries, the loader and the vDSO can make) says about a recorded run.
//
// A call is charged to the server only when the server's image made it. A process's image is the program it last
// executed (strace's exec notes), and a new process starts with the image of the process that created it, at the
// point it did (the clone/fork/vfork call that returned its pid). So the exec that starts the server belongs to
// the launcher before it, an execve made by a server process is the server's own call, and what the program it
// executed then does is that program's, not the server's.

import path from "node:path";
import type { EventSink, StreamNote } from "../ingest/event.js";
import type { Trace } from "../ingest/traceCollector.js";
import type { StaticModel } from "../static/index.js";
import { canonicalSyscallName } from "../syscalls/aliases.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import { X86_64_SYSCALLS } from "../syscalls/x86_64.js";

const CREATES_PROCESS = new Set(["clone", "clone3", "fork", "vfork"]);
const NUMBER_OF = new Map<string, number>(X86_64_SYSCALLS.map(([n, name]) => [name, n]));

interface StreamLineage {
  /** Global arrival order of each call of the stream (the capture's order across processes). */
  order: number[];
  /** Successful execs: the index of the exec call, and the program it started. */
  execs: { at: number; program: string | undefined }[];
  /** Processes (or threads) this stream created: the index of the creating call, and the new pid. */
  children: { at: number; pid: number }[];
}

/**
 * Records, beside a TraceCollector fed the same events, what is needed to know which program made each call:
 * exec notes with their position, process creation with the parent's position, and the capture's order.
 */
export class ImageTracker implements EventSink {
  private readonly streams = new Map<number, StreamLineage>();
  private seq = 0;

  constructor(private readonly vocab: Vocabulary) {}

  private lineage(stream: number): StreamLineage {
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = { order: [], execs: [], children: [] };
      this.streams.set(stream, s);
    }
    return s;
  }

  beginSource(): void {}

  call(stream: number, syscall: number, _time: number, ret: number): void {
    const s = this.lineage(stream);
    const at = s.order.length;
    s.order.push(this.seq++);
    if (ret > 0 && CREATES_PROCESS.has(this.vocab.token(syscall))) s.children.push({ at, pid: ret });
  }

  note(stream: number, note: StreamNote): void {
    // strace notes a successful exec right after the exec call itself.
    if (note.kind === "exec") {
      const s = this.lineage(stream);
      s.execs.push({ at: s.order.length - 1, program: note.detail });
    }
  }

  endSource(): void {}

  /**
   * The program (an exec'd path, or undefined when unknown) that made each call of `stream`, `calls` long.
   * A stream whose creator is unknown (the capture's first process) starts as undefined.
   */
  images(stream: number, calls: number): (string | undefined)[] {
    return this.imagesOf(stream, calls, new Set());
  }

  /** The process that created `stream`, and the index of its creating call; undefined for the capture's first. */
  creator(stream: number): { parent: number; at: number } | undefined {
    for (const [parent, s] of this.streams) {
      const c = s.children.find((k) => k.pid === stream);
      if (c !== undefined) return { parent, at: c.at };
    }
    return undefined;
  }

  /** Global arrival order of a stream's calls. */
  order(stream: number): readonly number[] {
    return this.streams.get(stream)?.order ?? [];
  }

  private imageAt(stream: number, at: number, seen: Set<number>): string | undefined {
    const s = this.streams.get(stream);
    let image = this.initialImage(stream, seen);
    for (const e of s?.execs ?? []) if (e.at < at) image = e.program;
    return image;
  }

  private initialImage(stream: number, seen: Set<number>): string | undefined {
    if (seen.has(stream)) return undefined;
    seen.add(stream);
    for (const [parent, s] of this.streams) {
      const c = s.children.find((k) => k.pid === stream);
      if (c !== undefined) return this.imageAt(parent, c.at, seen);
    }
    return undefined;
  }

  private imagesOf(stream: number, calls: number, seen: Set<number>): (string | undefined)[] {
    const s = this.streams.get(stream);
    let image = this.initialImage(stream, seen);
    const execs = s?.execs ?? [];
    let next = 0;
    const out: (string | undefined)[] = [];
    for (let i = 0; i < calls; i++) {
      out.push(image);
      // The exec call itself is the old image's; the calls after it are the new program's.
      while (next < execs.length && execs[next]!.at === i) image = execs[next++]!.program;
    }
    return out;
  }
}

export interface ImpossibleCall {
  syscall: string;
  /** How many times the server's image made it. */
  count: number;
  /** Its first occurrence: the process, and the call's index in that process's trace (0-based, as alarms). */
  pid: number;
  call: number;
}

export interface StaticCheck {
  /** The analysed binary. */
  program: string;
  /** Size of the set model (with the always-allowed calls). */
  syscalls: number;
  /** A complete model is sound: a call outside it is one the binary cannot make. */
  complete: boolean;
  /** Reachable sites the analysis could not resolve (unknown syscall numbers, unanalysed dlopen). */
  unresolvedSites: number;
  analysisMilliseconds: number;
  /** Whether the summaries of the binary's objects came from the cache. */
  cachedObjects: number;
  objects: number;
}

export interface StaticVerdict {
  /** Calls the server's image made in the run (the calls checked), and in how many processes. */
  checkedCalls: number;
  checkedProcesses: number;
  /** Calls in the run made by other programs (the launcher before the server's exec, what a server process exec'd). */
  otherCalls: number;
  /** Programs the server's processes executed. */
  executed: string[];
  /** The calls outside the set, in order of first appearance in the capture. */
  impossible: ImpossibleCall[];
  /** The first impossible call in the capture's order. */
  first: ImpossibleCall | null;
}

export function describeStaticModel(model: StaticModel): StaticCheck {
  return {
    program: model.program,
    syscalls: model.syscalls.length,
    complete: model.complete,
    unresolvedSites: model.unresolved.length + model.dlopen.length,
    analysisMilliseconds: model.stats.milliseconds,
    cachedObjects: model.objects.filter((o) => o.cached).length,
    objects: model.objects.length,
  };
}

/** The x86_64 number of a recorded call's name (strace's spelling), or undefined. */
function numberOf(token: string): number | undefined {
  const m = /^syscall_(\d+)$/.exec(token);
  if (m !== null) return Number(m[1]);
  return NUMBER_OF.get(canonicalSyscallName(token, "x86_64"));
}

/** Checks every call the server's image made in `traces` against the static set of `binary`. */
export function checkAgainstStatic(
  model: StaticModel,
  binary: string,
  traces: readonly Trace[],
  tracker: ImageTracker,
  vocab: Vocabulary,
): StaticVerdict {
  const server = path.resolve(binary);
  const isServer = (image: string | undefined): boolean => image !== undefined && path.resolve(image) === server;
  const allowed = new Set(model.syscalls);
  const found = new Map<string, ImpossibleCall & { order: number }>();
  const executed = new Set<string>();
  let checkedCalls = 0;
  let otherCalls = 0;
  let checkedProcesses = 0;
  for (const t of traces) {
    const images = tracker.images(t.stream, t.calls.length);
    const order = tracker.order(t.stream);
    let mine = 0;
    for (let i = 0; i < t.calls.length; i++) {
      if (!isServer(images[i])) {
        otherCalls++;
        continue;
      }
      mine++;
      const name = vocab.token(t.calls[i]!);
      const n = numberOf(name);
      if (i + 1 < t.calls.length && images[i + 1] !== images[i] && images[i + 1] !== undefined)
        executed.add(images[i + 1]!);
      if (n !== undefined && allowed.has(n)) continue;
      const at = order[i] ?? Number.POSITIVE_INFINITY;
      const seen = found.get(name);
      if (seen === undefined) {
        found.set(name, { syscall: name, count: 1, pid: t.stream, call: i, order: at });
      } else {
        seen.count++;
        if (at < seen.order) Object.assign(seen, { pid: t.stream, call: i, order: at });
      }
    }
    checkedCalls += mine;
    if (mine > 0) checkedProcesses++;
  }
  const strip = ({ order: _order, ...c }: ImpossibleCall & { order: number }): ImpossibleCall => c;
  const impossible = [...found.values()].sort((a, b) => a.order - b.order);
  return {
    checkedCalls,
    checkedProcesses,
    otherCalls,
    executed: [...executed].sort(),
    impossible: impossible.map(strip),
    first: impossible.length > 0 ? strip(impossible[0]!) : null,
  };
}

/** The demo's result of the static check: the model, and what it says about the held-out and the exploit runs. */
export interface DemoStatic extends StaticCheck {
  normal: StaticVerdict;
  exploit: StaticVerdict;
}

function list(names: string[]): string {
  return names.length <= 6 ? names.join(", ") : `${names.slice(0, 6).join(", ")}, ... (${names.length - 6} more)`;
}

/** One line of the demo's story: what the static model, with zero training, says about the exploit. */
export function staticStoryLine(s: DemoStatic, heldOutSessions: number): string {
  const parts = [`static model (no training): the server's code can make ${s.syscalls} system calls`];
  const n = s.normal.impossible;
  parts.push(
    n.length === 0
      ? `the ${heldOutSessions} held-out normal sessions made none outside them`
      : `the held-out normal sessions made ${n.length} outside them: ${list(n.map((c) => c.syscall))}`,
  );
  const e = s.exploit;
  if (e.first === null) {
    parts.push(
      `the exploit's ${e.checkedCalls} calls by the server's code all lie inside the set: the set model alone does not see it`,
    );
  } else {
    parts.push(
      `the exploit made ${e.impossible.length} it cannot: ${list(e.impossible.map((c) => c.syscall))} ` +
        `(first ${e.first.syscall} at call ${e.first.call} of pid ${e.first.pid})`,
    );
  }
  let line = parts.join("; ");
  if (!s.complete)
    line += ` [model incomplete: ${s.unresolvedSites} unresolved sites, so a call outside it may yet be possible]`;
  return line;
}
