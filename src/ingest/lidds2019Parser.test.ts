import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError, ParseError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { createLidds2019Parser, lidds2019Format } from "./lidds2019Parser.js";
import { createLidds2021Parser } from "./liddsParser.js";
import {
  type CollectedCall,
  CollectSink,
  liddsSampleMissingReason,
  loadRealLiddsRecording,
  toLidds2019Lines,
} from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

function parse2019(
  text: string | Uint8Array,
  opts: { chunks?: number[]; keepArgs?: boolean; lenient?: boolean } = {},
): { sink: CollectSink; vocab: Vocabulary } {
  const vocab = new Vocabulary();
  const sink = new CollectSink(vocab);
  const bytes = typeof text === "string" ? Buffer.from(text) : text;
  const p = createLidds2019Parser({
    file: "run.txt",
    vocab,
    sink,
    ...(opts.keepArgs !== undefined && { keepArgs: opts.keepArgs }),
    ...(opts.lenient !== undefined && { lenient: opts.lenient }),
  });
  let at = 0;
  for (const cut of [...(opts.chunks ?? [])].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    p.write(bytes.subarray(at, cut));
    at = cut;
  }
  p.write(bytes.subarray(at));
  p.end();
  return { sink, vocab };
}

function parse2021(lines: readonly string[], keepArgs = false): CollectSink {
  const vocab = new Vocabulary();
  const sink = new CollectSink(vocab);
  const p = createLidds2021Parser({ file: "x.sc", vocab, sink, keepArgs });
  p.write(Buffer.from(`${lines.join("\n")}\n`));
  p.end();
  return sink;
}

/** The 2019 calls must be the 2021 calls with times relative to the first event. */
function expectSameAs2021(calls2019: readonly CollectedCall[], calls2021: readonly CollectedCall[], t0: number) {
  expect(calls2019.length).toBe(calls2021.length);
  for (let k = 0; k < calls2021.length; k++) {
    const a = calls2019[k]!;
    const b = calls2021[k]!;
    expect(a.stream).toBe(b.stream);
    expect(a.syscall).toBe(b.syscall);
    expect(a.ret).toEqual(b.ret);
    expect(a.args).toBe(b.args);
    expect(Math.abs(a.time - (b.time - t0))).toBeLessThan(1e-6);
  }
}

const firstTime = (line: string): number => {
  const ts = line.slice(0, line.indexOf(" "));
  return Number(ts.slice(0, -9)) + Number(ts.slice(-9)) / 1e9;
};

describe.skipIf(missing !== undefined)("LID-DS 2019 parser on the real events in the 2019 layout", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;

  it("gives the same calls as the 2021 parser, timed from the first event", () => {
    const lines = toLidds2019Lines(real.lines);
    const { sink, vocab } = parse2019(`${lines.join("\n")}\n`, { keepArgs: true });
    const ref = parse2021(real.lines, true);
    expectSameAs2021(sink.calls, ref.calls, firstTime(real.lines[0]!));
    expect(sink.notes).toEqual(ref.notes.map((n) => ({ ...n, note: { ...n.note, time: expect.any(Number) } })));
    expect(vocab.size).toBe(38);
    expect(sink.calls.length).toBeGreaterThan(0);
  });

  it("handles a recording that crosses midnight", () => {
    const slice = real.lines.slice(0, 4000);
    // Shift the timestamps so that midnight (UTC) falls at the 2000th event.
    const ns = BigInt(slice[2000]!.slice(0, slice[2000]!.indexOf(" ")));
    const day = 86_400_000_000_000n;
    const shift = day - (ns % day);
    const lines = toLidds2019Lines(slice, 1, shift);
    expect(lines[1999]!.split(" ")[1]!.startsWith("23:59:")).toBe(true);
    expect(lines[2000]!.split(" ")[1]).toBe("00:00:00.000000000");
    const { sink } = parse2019(`${lines.join("\n")}\n`);
    expectSameAs2021(sink.calls, parse2021(slice).calls, firstTime(slice[0]!));
  });

  it("drops scheduler switch events (as LID-DS's loader does) and turns procexit into an exit note", () => {
    const slice = real.lines.slice(0, 500);
    const lines = toLidds2019Lines(slice);
    // A switch event inside a call, on the same thread, made from that call's own enter line.
    const k = lines.findIndex((l) => l.split(" ")[6] === ">");
    const f = lines[k]!.split(" ");
    const sw = [...f.slice(0, 7), "switch", "next=0"].join(" ");
    const withSwitch = [...lines.slice(0, k + 1), sw, ...lines.slice(k + 1)];
    const base = parse2019(`${lines.join("\n")}\n`);
    const got = parse2019(`${withSwitch.join("\n")}\n`);
    expect(got.sink.calls).toEqual(base.sink.calls);
    expect(got.vocab.lookup("switch")).toBe(-1);
    // procexit right after an enter: the enter is delivered (ret NaN), an exit note follows.
    const pe = [...f.slice(0, 7), "procexit", "status=0"].join(" ");
    const r = parse2019(`${lines[k]}\n${pe}\n`);
    expect(r.sink.calls.length).toBe(1);
    expect(r.sink.calls[0]!.ret).toBeNaN();
    expect(r.sink.notes.map((n) => n.note.kind)).toEqual(["comm", "exit"]);
    expect(r.vocab.lookup("procexit")).toBe(-1);
  });

  it("reports malformed lines with file, line and column", () => {
    const lines = toLidds2019Lines(real.lines.slice(0, 2));
    const good = lines[0]!;
    const f = good.split(" ");
    const cases = [
      [f[0], "25:00:00.0", ...f.slice(2)].join(" "), // hour out of range
      [f[0], f[1], "x", ...f.slice(3)].join(" "), // cpu
      [...f.slice(0, 6), "?", ...f.slice(7)].join(" "), // direction
      f.slice(0, 3).join(" "),
    ];
    for (const bad of cases) {
      let err: unknown;
      try {
        parse2019(`${good}\n${bad}\n`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      expect((err as ParseError).location).toMatchObject({ file: "run.txt", line: 2 });
    }
  });

  it("sniffs the 2019 layout and not the 2021 one", () => {
    const head = Buffer.from(toLidds2019Lines(real.lines.slice(0, 400)).join("\n"));
    expect(lidds2019Format.sniff(head, "a.txt")).toBeGreaterThanOrEqual(0.9);
    expect(lidds2019Format.sniff(head, "a")).toBeGreaterThan(0.5);
    expect(lidds2019Format.sniff(real.sc.subarray(0, 65_536), "a.sc")).toBe(0);
    expect(lidds2019Format.sniff(real.json, "a.json")).toBe(0);
  });

  it("feeds identically whatever the chunking, and throws only typed errors on mutated lines", () => {
    const text = Buffer.from(`${toLidds2019Lines(real.lines.slice(0, 2000)).join("\n")}\n`);
    const whole = parse2019(text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 30 }), (cuts) => {
        expect(parse2019(text, { chunks: cuts }).sink.calls).toEqual(whole.sink.calls);
      }),
      { numRuns: 30 },
    );
    const lines = toLidds2019Lines(real.lines.slice(0, 3000));
    const mutated = fc
      .tuple(fc.nat({ max: lines.length - 1 }), fc.nat(), fc.string({ maxLength: 3 }), fc.boolean())
      .map(([k, at, s, cut]) => {
        const l = lines[k]!;
        const i = at % (l.length + 1);
        return cut ? l.slice(0, i) : l.slice(0, i) + s + l.slice(i + 1);
      });
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, fc.string({ maxLength: 60 })), { maxLength: 25 }), (ls) => {
        const t = ls.join("\n");
        try {
          parse2019(t);
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
        }
        parse2019(t, { lenient: true });
      }),
      { numRuns: 300 },
    );
  });
});
