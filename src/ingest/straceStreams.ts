// Which stream an strace line belongs to: the pid of its prefix, else the parser's unprefixed stream. `strace -f`
// writing to stderr prints no prefix while it traces one process, so that process's lines would split between
// the unprefixed stream and its pid; this class finds that pid and keeps the lines together
// (docs/strace-format.md, "Streams").

import { isForkName } from "./straceCallNames.js";

/** Most pids tracked as alive for unprefixed lines of `strace -f` to stderr; beyond it that guess is dropped. */
const MAX_LIVE = 1 << 16;

export class StraceStreams {
  /** The stream of lines without a pid prefix. */
  readonly unprefixedStream: number;
  private sawUnprefixedCall = false;
  private lastPrefixedPid = -1;
  /** The pid of the process whose lines had no prefix, once known. */
  private aliasPid = -1;
  private lastChildPid = -1;
  /** Pids believed alive; a plain Set, which measured no slower here than a typed-array table. */
  private readonly live = new Set<number>();
  private liveOverflow = false;

  constructor(unprefixedStream: number) {
    this.unprefixedStream = unprefixedStream;
  }

  /** The stream of a line whose prefix names `pid` (-1: no prefix). */
  lineStream(pid: number): number {
    if (pid >= 0) {
      if (pid !== this.lastPrefixedPid) this.prefixedPid(pid);
      return this.streamOf(pid);
    }
    return this.unprefixedLineStream();
  }

  /** The stream of a process named by pid (in a message or a `superseded` line). */
  streamOf(pid: number): number {
    return pid === this.aliasPid ? this.unprefixedStream : pid;
  }

  /** An unprefixed call line that was not completed on it (unfinished, detached). */
  unprefixedCall(): void {
    this.sawUnprefixedCall = true;
  }

  /** An unprefixed call line with its return value: also remembers which child a fork made. */
  unprefixedCallReturned(b: Uint8Array, nameStart: number, nameEnd: number, ret: number): void {
    this.sawUnprefixedCall = true;
    if (this.aliasPid >= 0 || !(ret > 0)) return;
    if (isForkName(b, nameStart, nameEnd)) this.lastChildPid = ret;
  }

  /** `strace: Process N attached`. */
  attached(pid: number): void {
    if (this.liveOverflow) return;
    if (this.live.size >= MAX_LIVE) this.liveOverflow = true;
    else this.live.add(pid);
  }

  /** A process detached or replaced (`superseded by execve in pid N`): no longer alive under its pid. */
  gone(pid: number): void {
    this.live.delete(pid);
  }

  /** A prefixed line said its process exited or was killed. */
  exited(pid: number): void {
    this.live.delete(pid);
    this.lastPrefixedPid = -1;
  }

  private unprefixedLineStream(): number {
    if (this.live.size === 1 && !this.liveOverflow) {
      for (const pid of this.live) return this.streamOf(pid);
    }
    return this.unprefixedStream;
  }

  /** A prefixed line of another pid than the previous one: track live pids, and find the unprefixed process. */
  private prefixedPid(pid: number): void {
    this.lastPrefixedPid = pid;
    if (this.aliasPid < 0 && this.sawUnprefixedCall && pid !== this.lastChildPid && !this.live.has(pid)) {
      this.aliasPid = pid;
    }
    if (!this.liveOverflow && !this.live.has(pid)) {
      if (this.live.size >= MAX_LIVE) this.liveOverflow = true;
      else this.live.add(pid);
    }
  }
}
