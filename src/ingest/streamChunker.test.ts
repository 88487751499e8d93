import { describe, expect, it } from "vitest";
import { type StreamConsumer, StreamChunker } from "./streamChunker.js";

/** Records what the chunker hands over: per stream its calls, whether whole, and the largest feed. */
class Recorder implements StreamConsumer<number> {
  events: string[] = [];
  calls = new Map<number, number[]>();
  largestFeed = 0;
  beginSource(): void {}
  open(stream: number): number {
    this.events.push(`open ${stream}`);
    this.calls.set(stream, []);
    return stream;
  }
  feed(stream: number, calls: Uint16Array, n: number): void {
    this.largestFeed = Math.max(this.largestFeed, n);
    this.calls.get(stream)!.push(...calls.subarray(0, n));
  }
  whole(stream: number, calls: Uint16Array, multi: boolean): void {
    this.events.push(`whole ${stream} ${calls.length} ${multi}`);
    this.calls.set(stream, [...calls]);
  }
  close(stream: number, _state: number, multi: boolean): void {
    this.events.push(`close ${stream} ${this.calls.get(stream)!.length} ${multi}`);
  }
  endSource(): void {
    this.events.push("end");
  }
}

function run(streams: [number, number][], options: { holdCalls: number; chunkCalls: number }): Recorder {
  const r = new Recorder();
  const chunker = new StreamChunker(r, options);
  chunker.beginSource({ path: "x", format: "strace" });
  for (const [stream, n] of streams) for (let i = 0; i < n; i++) chunker.call(stream, i & 0xff, 0, 0, undefined);
  chunker.endSource();
  return r;
}

describe("StreamChunker", () => {
  it("hands short streams over whole at the end of the source, in stream id order", () => {
    const r = run(
      [
        [9, 3],
        [2, 5],
        [9, 1],
      ],
      { holdCalls: 4096, chunkCalls: 64 },
    );
    expect(r.events).toEqual(["whole 2 5 true", "whole 9 4 true", "end"]);
    expect(r.calls.get(9)).toEqual([0, 1, 2, 0]);
  });

  it("opens a stream past the hold budget and feeds it in chunks: a million calls held in 4096", () => {
    const r = run([[7, 1_000_000]], { holdCalls: 4096, chunkCalls: 512 });
    expect(r.events).toEqual(["open 7", "close 7 1000000 false", "end"]);
    expect(r.largestFeed).toBeLessThanOrEqual(4096);
    const got = r.calls.get(7)!;
    expect(got.every((c, i) => c === (i & 0xff))).toBe(true);
  });

  it("opens every held stream when many small ones pass the budget together", () => {
    const streams: [number, number][] = [];
    for (let s = 0; s < 100; s++) streams.push([s, 50]);
    const r = run(streams, { holdCalls: 1024, chunkCalls: 16 });
    expect(r.events.filter((e) => e.startsWith("open")).length).toBeGreaterThan(90);
    expect(r.events.at(-2)).toBe("close 99 50 true");
    for (let s = 0; s < 100; s++) expect(r.calls.get(s)).toHaveLength(50);
  });
});
