// Hands each stream of each source to a consumer in bounded memory: a stream is held whole while the source's held
// calls stay under a budget (then the consumer gets it whole at the end of its source, the fast batch path, in
// stream id order as TraceCollector gives traces), and once the budget is passed every held stream is "opened" and
// from then on goes to the consumer in chunks as its calls arrive. Memory is O(budget + open streams x chunk), never
// O(trace): a trace of any length, or a source of many long streams, is consumed as it is read.

import type { EventSink, SourceInfo, StreamNote } from "./event.js";

/** What is done with streams: whole when short, chunk by chunk when long. */
export interface StreamConsumer<S> {
  beginSource(source: SourceInfo): void;
  /** A stream too long to hold: its calls so far and the rest will come through `feed`. */
  open(stream: number): S;
  /** The next `n` calls of an open stream, in calls[0..n) (the array is reused: copy what must be kept). */
  feed(state: S, calls: Uint16Array, n: number): void;
  /**
   * A stream held whole, at the end of its source (streams in ascending id order, open or not); `multiStream`:
   * whether the source had more than one stream with calls. `calls` is reused afterwards.
   */
  whole(stream: number, calls: Uint16Array, multiStream: boolean): void;
  /** An open stream ended with its source (after its last `feed`). */
  close(stream: number, state: S, multiStream: boolean): void;
  endSource(): void;
}

export interface ChunkerOptions {
  /** Calls held whole across a source's streams before they are opened (default 2^20: 2 MiB). */
  holdCalls?: number;
  /** Calls buffered per open stream between two `feed`s (default 8192). */
  chunkCalls?: number;
}

const FIRST_BUFFER = 256;

function grownCopy(buf: Uint16Array, length: number): Uint16Array {
  const next = new Uint16Array(length);
  next.set(buf);
  return next;
}

class Held<S> {
  n = 0;
  state: S | undefined = undefined;
  opened = false;
  constructor(public buf: Uint16Array) {}
}

export class StreamChunker<S> implements EventSink {
  private readonly holdCalls: number;
  private readonly chunkCalls: number;
  private readonly streams = new Map<number, Held<S>>();
  private lastId = Number.NaN;
  private last: Held<S> | undefined;
  /** Capacity of the buffers of streams not yet open: what the hold budget bounds. */
  private held = 0;
  /** The largest buffer of the last source, reused by the next (thousands of one-stream files). */
  private spare: Uint16Array | undefined;

  constructor(
    private readonly consumer: StreamConsumer<S>,
    options: ChunkerOptions = {},
  ) {
    this.holdCalls = Math.max(FIRST_BUFFER, options.holdCalls ?? 1 << 20);
    this.chunkCalls = Math.max(1, options.chunkCalls ?? 8192);
  }

  beginSource(source: SourceInfo): void {
    this.streams.clear();
    this.last = undefined;
    this.lastId = Number.NaN;
    this.held = 0;
    this.consumer.beginSource(source);
  }

  call(stream: number, syscall: number, _time: number, _ret: number, _args: string | undefined): void {
    let h = this.last;
    if (stream !== this.lastId || h === undefined) h = this.lookup(stream);
    if (h.n === h.buf.length) this.full(h);
    h.buf[h.n++] = syscall;
  }

  note(_stream: number, _note: StreamNote): void {}

  endSource(): void {
    let withCalls = 0;
    for (const h of this.streams.values()) if (h.opened || h.n > 0) withCalls++;
    const multi = withCalls > 1;
    // One stream (a folder of single-process traces) needs no sorting.
    const ids = this.streams.size === 1 ? this.streams.keys() : [...this.streams.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const h = this.streams.get(id)!;
      if (!h.opened) {
        if (h.n > 0) this.consumer.whole(id, h.buf.subarray(0, h.n), multi);
        if (this.spare === undefined || h.buf.length > this.spare.length) this.spare = h.buf;
        continue;
      }
      if (h.n > 0) this.consumer.feed(h.state as S, h.buf, h.n);
      this.consumer.close(id, h.state as S, multi);
    }
    this.consumer.endSource();
    this.streams.clear();
    this.last = undefined;
    this.lastId = Number.NaN;
  }

  private lookup(stream: number): Held<S> {
    let h = this.streams.get(stream);
    if (h === undefined) {
      let buf = this.spare;
      this.spare = undefined;
      if (buf === undefined || this.held + buf.length > this.holdCalls) buf = new Uint16Array(FIRST_BUFFER);
      h = new Held<S>(buf);
      this.held += buf.length;
      this.streams.set(stream, h);
      if (this.held > this.holdCalls) this.openAll();
    }
    this.last = h;
    this.lastId = stream;
    return h;
  }

  /** Makes room in a full buffer: feeds an open stream, grows a held one, or opens every held stream. */
  private full(h: Held<S>): void {
    const grown = h.buf.length * 2;
    if (h.opened) {
      if (h.buf.length < this.chunkCalls) h.buf = grownCopy(h.buf, Math.min(grown, this.chunkCalls));
      else {
        this.consumer.feed(h.state as S, h.buf, h.n);
        h.n = 0;
      }
      return;
    }
    if (this.held + grown - h.buf.length <= this.holdCalls) {
      this.held += grown - h.buf.length;
      h.buf = grownCopy(h.buf, grown);
      return;
    }
    this.openAll();
  }

  /** The source holds too much: every held stream is handed over so far and goes on in chunks. */
  private openAll(): void {
    for (const [id, h] of this.streams) {
      if (h.opened) continue;
      h.opened = true;
      h.state = this.consumer.open(id);
      if (h.n > 0) this.consumer.feed(h.state, h.buf, h.n);
      h.n = 0;
      if (h.buf.length > this.chunkCalls) h.buf = new Uint16Array(this.chunkCalls);
    }
    this.held = 0;
  }
}
