import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { createLidds2021Parser } from "./liddsParser.js";
import { isEventName, MAX_TRACKED_THREADS, sysdigReturnValue } from "./sysdigCalls.js";
import { CollectSink, liddsSampleMissingReason, loadRealLiddsRecording } from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

const ret = (args: string, hex = false): number => {
  const b = Buffer.from(args);
  return sysdigReturnValue(b, 0, b.length, hex);
};

describe("sysdigReturnValue", () => {
  it("reads the first parameter as a decimal, hex or negative number, ignoring a suffix", () => {
    fc.assert(
      fc.property(fc.integer({ min: -4095, max: 2 ** 40 }), fc.constantFrom("res", "fd", "euid"), (n, name) => {
        expect(ret(`${name}=${n}`)).toBe(n);
        expect(ret(`${name}=${n}(EAGAIN) data=1`)).toBe(n);
        expect(ret(`${name}=${n} size=3`)).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 }), (n) => {
        expect(ret(`res=${n.toString(16).toUpperCase()}`, true)).toBe(n);
        if (/[A-F]/.test(n.toString(16).toUpperCase())) expect(ret(`res=${n.toString(16).toUpperCase()}`)).toBe(n);
      }),
    );
  });

  it("is NaN without a numeric first parameter", () => {
    for (const s of ["", "res=", "res", "=5", "data=xyz", "res=12.5", "res=-", " res=1"]) expect(ret(s)).toBeNaN();
  });
});

describe("isEventName", () => {
  it("accepts [A-Za-z0-9_]{1,64} and <NA> only", () => {
    const ok = (s: string): boolean => isEventName(Buffer.from(s), 0, Buffer.byteLength(s));
    expect(ok("read")).toBe(true);
    expect(ok("<NA>")).toBe(true);
    expect(ok("epoll_create1")).toBe(true);
    expect(ok("")).toBe(false);
    expect(ok("a".repeat(65))).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (s) => {
        expect(ok(s)).toBe(/^(?:[A-Za-z0-9_]{1,64}|<NA>)$/.test(s));
      }),
    );
  });
});

describe.skipIf(missing !== undefined)("thread table cap", () => {
  it(`delivers open calls and starts afresh past ${MAX_TRACKED_THREADS} threads`, () => {
    const real = loadRealLiddsRecording();
    const enter = real.lines.find((l) => l.split(" ")[6] === ">" && l.split(" ")[5] === "read")!;
    const f = enter.split(" ");
    const exit = real.lines.find((l) => {
      const g = l.split(" ");
      return g[4] === f[4] && g[5] === "read" && g[6] === "<";
    })!;
    const threads = MAX_TRACKED_THREADS + 1000;
    const withTid = (line: string, tid: number): string => {
      const g = line.split(" ");
      g[4] = String(tid);
      return g.join(" ");
    };
    const lines: string[] = [];
    for (let t = 1; t <= threads; t++) lines.push(withTid(enter, t));
    for (let t = 1; t <= threads; t++) lines.push(withTid(exit, t));
    const vocab = new Vocabulary();
    const sink = new CollectSink(vocab);
    const p = createLidds2021Parser({ file: "t.sc", vocab, sink });
    p.write(Buffer.from(`${lines.join("\n")}\n`));
    p.end();
    // The first MAX_TRACKED_THREADS enters were delivered (ret NaN) when the table filled; their exits then count
    // as calls begun earlier. The last 1000 threads pair normally.
    expect(sink.calls.length).toBe(threads + MAX_TRACKED_THREADS);
    expect(sink.calls.filter((c) => Number.isNaN(c.ret)).length).toBe(MAX_TRACKED_THREADS);
  });
});
