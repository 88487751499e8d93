import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError, ParseError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { createLidds2021Parser, lidds2021Format } from "./liddsParser.js";
import { readLiddsRecordingZip } from "./liddsRecordingZip.js";
import {
  type CollectedCall,
  CollectSink,
  liddsSampleMissingReason,
  loadRealLiddsRecording,
  realAttackNs,
  toLidds2019Lines,
} from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

interface ParseResult {
  sink: CollectSink;
  vocab: Vocabulary;
}

function parse(
  data: Uint8Array | string,
  opts: { chunks?: number[]; keepArgs?: boolean; countOrphanExits?: boolean; lenient?: boolean } = {},
): ParseResult {
  const vocab = new Vocabulary();
  const sink = new CollectSink(vocab);
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const parser = createLidds2021Parser(
    {
      file: "test.sc",
      vocab,
      sink,
      ...(opts.keepArgs !== undefined && { keepArgs: opts.keepArgs }),
      ...(opts.lenient !== undefined && { lenient: opts.lenient }),
    },
    opts.countOrphanExits === undefined ? {} : { countOrphanExits: opts.countOrphanExits },
  );
  let at = 0;
  for (const cut of [...(opts.chunks ?? [])].sort((a, b) => a - b)) {
    if (cut <= at || cut >= bytes.length) continue;
    parser.write(bytes.subarray(at, cut));
    at = cut;
  }
  parser.write(bytes.subarray(at));
  parser.end();
  return { sink, vocab };
}

// ---------------------------------------------------------------------------------------------------------------
// An independent reading of the rule in sysdigCalls.ts, on strings: group events per thread first, then pair.

interface RawEvent {
  ns: bigint;
  tid: number;
  comm: string;
  name: string;
  enter: boolean;
  args: string;
}

function rawEvents(lines: readonly string[]): RawEvent[] {
  return lines.map((line) => {
    const f = line.trimEnd().split(" ");
    return {
      ns: BigInt(f[0]!),
      comm: f[3]!,
      tid: Number(f[4]),
      name: f[5]!,
      enter: f[6] === ">",
      args: f.slice(7).join(" "),
    };
  });
}

function expectedRet(ev: RawEvent): number {
  const m = /^[A-Za-z_0-9]+=(-?)([0-9A-Fa-f]+)(?:\(| |$)/.exec(ev.args);
  if (m === null) return Number.NaN;
  const hex = ["brk", "mmap", "mmap2", "mremap"].includes(ev.name) || /[A-Fa-f]/.test(m[2]!);
  const v = Number.parseInt(m[2]!, hex ? 16 : 10);
  return m[1] === "-" ? -v : v;
}

interface ExpectedCall {
  tid: number;
  name: string;
  ns: bigint;
  ret: number;
  args: string;
}

function expectedCallsPerThread(events: readonly RawEvent[], countOrphans = true): Map<number, ExpectedCall[]> {
  const byTid = new Map<number, RawEvent[]>();
  for (const ev of events) {
    const list = byTid.get(ev.tid) ?? [];
    list.push(ev);
    byTid.set(ev.tid, list);
  }
  const out = new Map<number, ExpectedCall[]>();
  for (const [tid, list] of byTid) {
    const calls: ExpectedCall[] = [];
    let open: RawEvent | undefined;
    const mark = (dir: string, args: string): string => (args.length > 0 ? `${dir} ${args}` : dir);
    for (const ev of list) {
      if (ev.enter) {
        if (open) calls.push({ tid, name: open.name, ns: open.ns, ret: Number.NaN, args: mark(">", open.args) });
        open = ev;
        continue;
      }
      if (open && open.name === ev.name) {
        calls.push({
          tid,
          name: open.name,
          ns: open.ns,
          ret: expectedRet(ev),
          args: `${mark(">", open.args)} ${mark("<", ev.args)}`,
        });
        open = undefined;
        continue;
      }
      if (open) calls.push({ tid, name: open.name, ns: open.ns, ret: Number.NaN, args: mark(">", open.args) });
      open = undefined;
      const childReturn = ["clone", "clone3", "fork", "vfork"].includes(ev.name) && expectedRet(ev) === 0;
      if (!childReturn && countOrphans) {
        calls.push({ tid, name: ev.name, ns: ev.ns, ret: expectedRet(ev), args: mark("<", ev.args) });
      }
    }
    if (open) calls.push({ tid, name: open.name, ns: open.ns, ret: Number.NaN, args: mark(">", open.args) });
    out.set(tid, calls);
  }
  return out;
}

function perThread(calls: readonly CollectedCall[]): Map<number, CollectedCall[]> {
  const m = new Map<number, CollectedCall[]>();
  for (const c of calls) {
    const list = m.get(c.stream) ?? [];
    list.push(c);
    m.set(c.stream, list);
  }
  return m;
}

function expectSameCalls(actual: readonly CollectedCall[], expected: Map<number, ExpectedCall[]>): void {
  const got = perThread(actual);
  expect([...got.keys()].sort()).toEqual([...expected.keys()].filter((t) => expected.get(t)!.length > 0).sort());
  for (const [tid, exp] of expected) {
    const act = got.get(tid) ?? [];
    expect(act.length).toBe(exp.length);
    for (let k = 0; k < exp.length; k++) {
      const a = act[k]!;
      const e = exp[k]!;
      expect(a.syscall).toBe(e.name);
      expect(Math.abs(a.time - Number(e.ns) / 1e9)).toBeLessThan(1e-6);
      expect(a.ret).toEqual(e.ret);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe.skipIf(missing !== undefined)("LID-DS 2021 parser on the real recording", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;

  it("matches the README's event counts, computed from the raw lines", () => {
    const events = rawEvents(real.lines);
    expect(events.length).toBe(23_468);
    expect(events.filter((e) => e.enter).length).toBe(11_734);
    expect(events.filter((e) => !e.enter).length).toBe(11_734);
    expect(new Set(events.map((e) => e.tid)).size).toBe(7);
    expect(new Set(events.map((e) => e.name)).size).toBe(38);
    expect(events.filter((e) => e.ns >= realAttackNs(real)).length).toBe(17_255);
  });

  it("counts each call once, as an independent per-thread pairing does", () => {
    const { sink, vocab } = parse(real.sc);
    const expected = expectedCallsPerThread(rawEvents(real.lines));
    const total = [...expected.values()].reduce((n, l) => n + l.length, 0);
    expect(sink.calls.length).toBe(total);
    expectSameCalls(sink.calls, expected);
    // Every enter is one call; the exits without an enter add the calls that began before the recording, except
    // the clone child's return. Both parts are counted from the raw lines here.
    const events = rawEvents(real.lines);
    const enters = events.filter((e) => e.enter).length;
    const seen = new Set<number>();
    let orphanExits = 0;
    let childReturns = 0;
    for (const e of events) {
      if (!seen.has(e.tid) && !e.enter) {
        if (e.name === "clone" && expectedRet(e) === 0) childReturns++;
        else orphanExits++;
      }
      seen.add(e.tid);
    }
    expect(sink.calls.length).toBe(enters + orphanExits);
    expect(childReturns).toBe(1);
    expect(vocab.size).toBe(38);
    expect(new Set(sink.calls.map((c) => c.stream)).size).toBe(7);
  });

  it("counts enter events only with countOrphanExits: false (LID-DS's loader)", () => {
    const { sink } = parse(real.sc, { countOrphanExits: false });
    expect(sink.calls.length).toBe(rawEvents(real.lines).filter((e) => e.enter).length);
    expectSameCalls(sink.calls, expectedCallsPerThread(rawEvents(real.lines), false));
  });

  it("counts the calls at or after the attack time the same in float seconds and in integer nanoseconds", () => {
    const { sink } = parse(real.sc);
    const attackNs = realAttackNs(real);
    const attack = (JSON.parse(real.json.toString()) as { time: { exploit: { absolute: number }[] } }).time.exploit[0]!
      .absolute;
    const expected = [...expectedCallsPerThread(rawEvents(real.lines)).values()]
      .flat()
      .filter((c) => c.ns >= attackNs).length;
    const actual = sink.calls.filter((c) => c.time >= attack).length;
    expect(actual).toBe(expected);
    expect(actual).toBeGreaterThan(0);
    expect(actual).toBeLessThan(sink.calls.length);
  });

  it("notes each thread's process name once", () => {
    const { sink } = parse(real.sc);
    const events = rawEvents(real.lines);
    expect(sink.notes.map((n) => n.stream)).toEqual([...new Set(events.map((e) => e.tid))]);
    for (const n of sink.notes) {
      expect(n.note.kind).toBe("comm");
      expect(n.note.detail).toBe(events.find((e) => e.tid === n.stream)!.comm);
    }
  });

  it("times calls at their enter, never decreasing within a thread", () => {
    const { sink } = parse(real.sc);
    for (const list of perThread(sink.calls).values()) {
      for (let k = 1; k < list.length; k++) expect(list[k]!.time).toBeGreaterThanOrEqual(list[k - 1]!.time);
    }
  });

  it("keeps both events' arguments when asked", () => {
    const { sink } = parse(real.sc, { keepArgs: true });
    const expected = [...expectedCallsPerThread(rawEvents(real.lines)).values()].flat();
    const got = [...perThread(sink.calls).values()].flat();
    expect(got.map((c) => c.args)).toEqual(expected.map((c) => c.args));
    expect(parse(real.sc).sink.calls.every((c) => c.args === undefined)).toBe(true);
  });

  it("parses the .sc inside the original zip exactly like the extracted one", async () => {
    const vocab = new Vocabulary();
    const sink = new CollectSink(vocab);
    const read = await readLiddsRecordingZip(real.zipPath, { vocab, sink });
    const direct = parse(real.sc);
    expect(sink.calls).toEqual(direct.sink.calls);
    expect(sink.notes).toEqual(direct.sink.notes);
    expect(sink.sources.length).toBe(1);
    expect(sink.ended).toBe(1);
    const json = JSON.parse(real.json.toString()) as {
      exploit: boolean;
      time: { exploit: { absolute: number }[] };
    };
    expect(read.source.label).toBe(json.exploit ? "attack" : "normal");
    expect(read.source.attackTime).toBe(json.time.exploit[0]!.absolute);
    expect(read.source.attackInstance).toBe(real.name);
    expect(read.source.path).toBe(`${real.zipPath}:${real.name}.sc`);
    expect(read.entries.length).toBe(4);
  });

  it("feeds identically whatever the chunking", () => {
    const slice = Buffer.from(`${real.lines.slice(0, 3000).join("\n")}\n`);
    const whole = parse(slice, { keepArgs: true });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: slice.length - 1 }), { maxLength: 40 }), (cuts) => {
        const chunked = parse(slice, { chunks: cuts, keepArgs: true });
        expect(chunked.sink.calls).toEqual(whole.sink.calls);
        expect(chunked.sink.notes).toEqual(whole.sink.notes);
      }),
      { numRuns: 40 },
    );
    // One byte at a time, too.
    const small = slice.subarray(0, 4000);
    const cuts = Array.from({ length: small.length - 1 }, (_, k) => k + 1);
    expect(parse(small, { chunks: cuts }).sink.calls).toEqual(parse(small).sink.calls);
  });
});

describe.skipIf(missing !== undefined)("LID-DS 2021 parser rules on lines taken from the real recording", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;
  const events = missing === undefined ? rawEvents(real.lines) : [];

  const findLine = (pred: (e: RawEvent, k: number) => boolean): string => {
    const k = events.findIndex(pred);
    expect(k).toBeGreaterThanOrEqual(0);
    return real.lines[k]!;
  };

  it("counts a call that began before the recording at its exit", () => {
    const first = real.lines[0]!;
    const ev = rawEvents([first])[0]!;
    expect(ev.enter).toBe(false);
    const { sink } = parse(`${first}\n`);
    expect(sink.calls.length).toBe(1);
    expect(sink.calls[0]!.syscall).toBe(ev.name);
    expect(sink.calls[0]!.ret).toBe(expectedRet(ev));
    expect(parse(`${first}\n`, { countOrphanExits: false }).sink.calls.length).toBe(0);
  });

  it("does not count a clone child's return, but counts the parent's clone", () => {
    const child = findLine((e) => e.name === "clone" && !e.enter && expectedRet(e) === 0);
    const parentExit = findLine((e) => e.name === "clone" && !e.enter && expectedRet(e) > 0);
    const parentEnter = findLine((e) => e.name === "clone" && e.enter);
    const { sink } = parse(`${parentEnter}\n${parentExit}\n${child}\n`);
    expect(sink.calls.length).toBe(1);
    expect(sink.calls[0]!.stream).toBe(rawEvents([parentEnter])[0]!.tid);
    expect(sink.calls[0]!.ret).toBe(expectedRet(rawEvents([parentExit])[0]!));
    // The child thread is still announced.
    expect(sink.notes.map((n) => n.stream)).toContain(rawEvents([child])[0]!.tid);
  });

  it("closes an enter whose exit is missing with ret NaN, and counts a mismatched exit on its own", () => {
    const readEnter = findLine((e) => e.name === "read" && e.enter);
    const tid = rawEvents([readEnter])[0]!.tid;
    const closeExit = findLine((e) => e.name === "close" && !e.enter && e.tid === tid);
    const { sink } = parse(`${readEnter}\n${closeExit}\n`);
    expect(sink.calls.map((c) => c.syscall)).toEqual(["read", "close"]);
    expect(sink.calls[0]!.ret).toBeNaN();
    expect(sink.calls[1]!.ret).toBe(expectedRet(rawEvents([closeExit])[0]!));
    // Two enters in a row: the first is delivered when the second arrives, the second at the end.
    const { sink: s2 } = parse(`${readEnter}\n${readEnter}\n`);
    expect(s2.calls.length).toBe(2);
    expect(s2.calls.every((c) => Number.isNaN(c.ret))).toBe(true);
  });

  it("delivers open calls at the end in the order of their enters", () => {
    const enters = real.lines.filter((_, k) => events[k]!.enter);
    const tids: number[] = [];
    const picked: string[] = [];
    for (const line of enters) {
      const t = rawEvents([line])[0]!.tid;
      if (!tids.includes(t)) {
        tids.push(t);
        picked.push(line);
      }
    }
    expect(picked.length).toBe(7);
    const { sink } = parse(`${[...picked].reverse().join("\n")}\n`);
    expect(sink.calls.map((c) => c.stream)).toEqual([...tids].reverse());
  });

  it("reads brk/mmap returns as hex even without a hex letter", () => {
    const enter = findLine((e) => e.name === "brk" && e.enter);
    const tid = rawEvents([enter])[0]!.tid;
    const exit = findLine((e) => e.name === "brk" && !e.enter && e.tid === tid);
    const digitsOnly = exit.replace(/res=[0-9A-F]+/, "res=560096009000");
    const { sink } = parse(`${enter}\n${digitsOnly}\n`);
    expect(sink.calls[0]!.ret).toBe(0x560096009000);
    const readExit = findLine((e) => e.name === "read" && !e.enter && e.tid === tid);
    const readEnter = findLine((e) => e.name === "read" && e.enter && e.tid === tid);
    expect(parse(`${readEnter}\n${readExit}\n`).sink.calls[0]!.ret).toBe(expectedRet(rawEvents([readExit])[0]!));
  });

  it("reads a process name with spaces", () => {
    const lines = real.lines.slice(0, 200);
    const renamed = lines.map((l) => l.replace(" apache2 ", " apache 2 > x "));
    const a = parse(`${lines.join("\n")}\n`);
    const b = parse(`${renamed.join("\n")}\n`);
    expect(b.sink.calls).toEqual(a.sink.calls);
    expect(b.sink.notes.map((n) => n.note.detail)).toEqual(a.sink.notes.map(() => "apache 2 > x"));
  });

  it("skips sysdig events that are not syscalls (<NA>)", () => {
    const lines = real.lines.slice(0, 300);
    const k = events.slice(0, 300).findIndex((e) => e.enter && e.name === "read");
    const meta = lines[k]!.replace(" read > ", " <NA> > ");
    const withMeta = [...lines.slice(0, k + 1), meta, ...lines.slice(k + 1)];
    const a = parse(`${lines.join("\n")}\n`);
    const b = parse(`${withMeta.join("\n")}\n`);
    expect(b.sink.calls).toEqual(a.sink.calls);
    expect(b.vocab.lookup("<NA>")).toBe(-1);
  });

  it("reports malformed lines with file, line, column and excerpt", () => {
    const good = real.lines[1]!;
    const cases: [string, number][] = [
      [good.slice(0, 19), 1], // timestamp only
      [`x${good}`, 1],
      [good.replace(/ [<>] /, " ? "), 21],
      [good.replace(" wait4 ", " wa.it4 "), 1],
    ];
    for (const [bad, _] of cases) {
      let err: unknown;
      try {
        parse(`${good}\n${bad}\n`);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ParseError);
      const pe = err as ParseError;
      expect(pe.code).toBe("E_PARSE");
      expect(pe.location.file).toBe("test.sc");
      expect(pe.location.line).toBe(2);
      expect(pe.location.column).toBeGreaterThanOrEqual(1);
      expect(pe.location.excerpt!.length).toBeGreaterThan(0);
    }
    const skipped: ParseError[] = [];
    const vocab = new Vocabulary();
    const sink = new CollectSink(vocab);
    const p = createLidds2021Parser({
      file: "t.sc",
      vocab,
      sink,
      lenient: true,
      onSkip: (e) => skipped.push(e),
    });
    p.write(Buffer.from(`${good}\n${good.slice(0, 19)}\n${good}\n`));
    p.end();
    expect(skipped.length).toBe(1);
    expect(skipped[0]!.location.line).toBe(2);
  });

  it("sniffs the real head, not other LID-DS files or the 2019 layout", () => {
    const head = real.sc.subarray(0, 65_536);
    expect(lidds2021Format.sniff(head, "x.sc")).toBeGreaterThanOrEqual(0.9);
    expect(lidds2021Format.sniff(head, "x")).toBeGreaterThanOrEqual(0.5);
    expect(lidds2021Format.sniff(real.json, "x.json")).toBe(0);
    expect(lidds2021Format.sniff(real.res, "x.res")).toBe(0);
    expect(lidds2021Format.sniff(Buffer.from(toLidds2019Lines(real.lines.slice(0, 50)).join("\n")), "x")).toBe(0);
    expect(lidds2021Format.sniff(new Uint8Array(0), "x.sc")).toBe(0);
  });
});

describe.skipIf(missing !== undefined)("LID-DS 2021 parser robustness (property-based)", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;

  const mutatedLine = fc
    .tuple(
      fc.nat({ max: 23_000 }),
      fc.array(
        fc.tuple(fc.constantFrom("delete", "insert", "replace", "truncate"), fc.nat(), fc.string({ maxLength: 4 })),
        { maxLength: 4 },
      ),
    )
    .map(([k, ops]) => {
      let s = real.lines[k % real.lines.length]!;
      for (const [op, at, text] of ops) {
        const i = s.length === 0 ? 0 : at % s.length;
        if (op === "delete") s = s.slice(0, i) + s.slice(i + 1 + (text.length % 3));
        else if (op === "insert") s = s.slice(0, i) + text + s.slice(i);
        else if (op === "replace") s = s.slice(0, i) + text + s.slice(i + text.length);
        else s = s.slice(0, i);
      }
      return s;
    });
  const anyLine = fc.oneof(
    mutatedLine,
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString("latin1")),
    fc.nat({ max: 23_000 }).map((k) => real.lines[k % real.lines.length]!),
  );

  it("throws only typed errors in strict mode and never throws in lenient mode", () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 30 }), (lines) => {
        const text = lines.join("\n");
        try {
          parse(text);
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
        }
        const { sink } = parse(text, { lenient: true });
        for (const c of sink.calls) {
          expect(Number.isInteger(c.stream)).toBe(true);
          expect(typeof c.time).toBe("number");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on raw random bytes in lenient mode", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        parse(bytes, { lenient: true });
        try {
          parse(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
        }
      }),
      { numRuns: 200 },
    );
  });
});
