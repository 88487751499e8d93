// Property tests of the bpftrace output parser: arbitrary event sequences, rendered as bpftrace prints them and cut
// into arbitrary chunks, parse back to exactly the same events, each with the time of the chunk that completed its
// line; foreign lines mixed in are counted and change nothing else; arbitrary bytes never make it throw.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BpftraceOutputParser, escapeName } from "./bpftraceOutput.js";
import { BATCH } from "./bpftraceScript.js";
import { kernelDevToUserDev, userDevToKernelDev } from "./execIdentity.js";
import type { ExeIdentity } from "./hostEvents.js";
import { type HostEvent, HostEventRecorder } from "./testing/hostEventRecorder.js";

type Ev = HostEvent;

const plainName = (_pid: number, dev: number, ino: number, filename: string): ExeIdentity => ({
  path: filename,
  dev,
  ino,
});

/** An event without its time. */
type Bare<E = Ev> = E extends unknown ? Omit<E, "time"> : never;

/** One line of bpftrace output and the events it stands for (without times). */
interface Line {
  text: Uint8Array;
  events: Bare[];
  kernelSyscalls?: number;
}

const pidArb = fc.integer({ min: 1, max: 4_194_304 });
const enc = (s: string): Uint8Array => Buffer.from(s, "latin1");

const batchArb: fc.Arbitrary<Line> = fc
  .record({
    pid: pidArb,
    tid: pidArb,
    nrs: fc.array(fc.oneof(fc.integer({ min: 0, max: 0xfffe }), fc.integer({ min: 0, max: 462 }), fc.constant(-1)), {
      minLength: 1,
      maxLength: BATCH,
    }),
  })
  .map(({ pid, tid, nrs }) => {
    // As bpftrace prints the 64-bit words: %lx, no leading zeros; unused slots are zero.
    const words = Array.from({ length: BATCH / 4 }, () => 0n);
    nrs.forEach((nr, k) => {
      words[k >> 2]! |= BigInt(nr < 0 ? 0xffff : nr) << BigInt(16 * (k & 3));
    });
    return {
      text: enc(`B ${pid} ${tid} ${nrs.length} ${words.map((w) => w.toString(16)).join(" ")}\n`),
      events: nrs.map((nr) => ({ kind: "syscall" as const, pid, tid, nr })),
    };
  });

/** File-name bytes: anything but NUL (a path cannot hold one) and backslash (which %r leaves ambiguous). */
const nameBytesArb = fc
  .array(
    fc.integer({ min: 1, max: 255 }).filter((b) => b !== 0x5c),
    { maxLength: 230 },
  )
  .map((a) => Uint8Array.from(a));

const execArb: fc.Arbitrary<Line> = fc
  .record({
    pid: pidArb,
    leader: fc.boolean(),
    oldTid: pidArb,
    ino: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    major: fc.integer({ min: 0, max: 0xfff }),
    minor: fc.integer({ min: 0, max: 0xfffff }),
    name: nameBytesArb,
    garbage: fc.uint8Array({ maxLength: 200 }),
  })
  .map(({ pid, leader, oldTid, ino, major, minor, name, garbage }) => {
    const kdev = major * 0x100000 + minor;
    // bpftrace reads a fixed 200-byte buffer: the name, its NUL, then whatever followed it in the record.
    const buf = new Uint8Array(200);
    buf.set(name.subarray(0, 200));
    if (name.length < 200) buf.set(garbage.subarray(0, 199 - name.length), name.length + 1);
    const old = leader ? pid : oldTid;
    const path = Buffer.from(name.subarray(0, 200)).toString("utf8");
    const events: Bare[] = [];
    if (old !== pid) events.push({ kind: "exit", pid, tid: old });
    events.push({ kind: "exec", pid, tid: pid, exe: { path, dev: kernelDevToUserDev(kdev), ino } });
    return { text: enc(`E ${pid} ${pid} ${old} ${ino} ${kdev} ${escapeName(buf)}\n`), events };
  });

const forkArb: fc.Arbitrary<Line> = fc
  .record({ pid: pidArb, tid: pidArb, child: pidArb, thread: fc.boolean() })
  .map(({ pid, tid, child, thread }) => ({
    text: enc(`F ${pid} ${tid} ${thread ? pid : child} ${child}\n`),
    events: [{ kind: "fork", parentPid: pid, parentTid: tid, childPid: thread ? pid : child, childTid: child }],
  }));

const exitArb: fc.Arbitrary<Line> = fc.record({ pid: pidArb, tid: pidArb }).map(({ pid, tid }) => ({
  text: enc(`X ${pid} ${tid}\n`),
  events: [{ kind: "exit", pid, tid }],
}));

const lostArb: fc.Arbitrary<Line> = fc.integer({ min: 1, max: 2 ** 40 }).map((n) => ({
  text: enc(`Lost ${n} events\n`),
  events: [{ kind: "lost", count: n, site: "kernel" }],
}));

const quietArb: fc.Arbitrary<Line> = fc.oneof(
  fc.constant<Line>({ text: enc("\n"), events: [] }),
  fc.constant<Line>({ text: enc("R\n"), events: [] }),
  fc.integer({ min: 1, max: 99 }).map((n): Line => ({ text: enc(`Attaching ${n} probes...\n`), events: [] })),
  fc.integer({ min: 0, max: 2 ** 50 }).map((n): Line => ({
    text: enc(`@kernel_syscalls: ${n}\n`),
    events: [],
    kernelSyscalls: n,
  })),
);

const lineArb = fc.oneof(
  { arbitrary: batchArb, weight: 8 },
  { arbitrary: execArb, weight: 2 },
  { arbitrary: forkArb, weight: 1 },
  { arbitrary: exitArb, weight: 1 },
  { arbitrary: lostArb, weight: 1 },
  { arbitrary: quietArb, weight: 1 },
);

/** A foreign line: not empty, no newline, and starting with a byte no bpftrace line of ours starts with. */
const foreignArb: fc.Arbitrary<Line> = fc
  .tuple(fc.constantFrom(..."?#!0 zZ-"), fc.uint8Array({ maxLength: 80 }))
  .map(([first, rest]) => ({
    text: Uint8Array.from([first.charCodeAt(0), ...rest.filter((b) => b !== 0x0a), 0x0a]),
    events: [],
  }));

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Cut points (sorted, distinct, inside the text) from arbitrary fractions. */
function cuts(length: number, fractions: number[]): number[] {
  return [...new Set(fractions.map((f) => Math.floor(f * length)))]
    .filter((c) => c > 0 && c < length)
    .sort((a, b) => a - b);
}

/** Feeds `text` cut at `at`, chunk i with time i; the events, the parser, and the time each line was completed. */
function feed(text: Uint8Array, at: number[]): { events: Ev[]; parser: BpftraceOutputParser } {
  const events: Ev[] = [];
  const parser = new BpftraceOutputParser({ sink: new HostEventRecorder(events), resolveExe: plainName });
  let from = 0;
  [...at, text.length].forEach((to, i) => {
    parser.write(text.subarray(from, to), i);
    from = to;
  });
  parser.end();
  return { events, parser };
}

/** The events the lines stand for, each with the index of the chunk holding its line's newline. */
function expected(lines: Line[], at: number[]): Ev[] {
  const out: Ev[] = [];
  let end = 0;
  for (const line of lines) {
    end += line.text.length;
    const newline = end - 1;
    const chunk = at.filter((c) => c <= newline).length;
    for (const e of line.events) out.push({ ...e, time: chunk } as Ev);
  }
  return out;
}

const fractionsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 });

describe("BpftraceOutputParser properties", () => {
  it("parses rendered event sequences, cut anywhere, back to the same events and times", () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), fractionsArb, (lines, fractions) => {
        const text = concat(lines.map((l) => l.text));
        const at = cuts(text.length, fractions);
        const { events, parser } = feed(text, at);
        expect(events).toEqual(expected(lines, at));
        expect(parser.skippedLines).toBe(0);
        const counts = lines.flatMap((l) => (l.kernelSyscalls === undefined ? [] : [l.kernelSyscalls]));
        expect(parser.kernelSyscalls).toBe(counts.length === 0 ? undefined : Math.max(...counts));
        expect(parser.syscalls).toBe(events.filter((e) => e.kind === "syscall").length);
      }),
      { numRuns: 300 },
    );
  });

  it("counts foreign lines mixed in, and delivers the rest unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ arbitrary: lineArb, weight: 3 }, { arbitrary: foreignArb, weight: 1 }), { maxLength: 60 }),
        fractionsArb,
        (lines, fractions) => {
          const text = concat(lines.map((l) => l.text));
          const at = cuts(text.length, fractions);
          const { events, parser } = feed(text, at);
          expect(events).toEqual(expected(lines, at));
          expect(parser.skippedLines).toBe(lines.filter(isForeign).length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never throws on arbitrary bytes, and skips at most one line per newline (plus a cut last line)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            lineArb.map((l) => l.text),
          ),
          { maxLength: 30 },
        ),
        fractionsArb,
        (parts, fractions) => {
          const text = concat(parts);
          const { parser } = feed(text, cuts(text.length, fractions));
          const newlines = text.filter((b) => b === 0x0a).length;
          expect(parser.skippedLines).toBeLessThanOrEqual(newlines + 1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("device numbers: user encoding and back, for every 12-bit major and 20-bit minor", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfffff }), (major, minor) => {
        const kdev = major * 0x100000 + minor;
        const udev = kernelDevToUserDev(kdev);
        // glibc's makedev: ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)
        expect(udev).toBe(Number((BigInt(major) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n)));
        expect(userDevToKernelDev(udev)).toBe(kdev);
      }),
    );
  });
});

function isForeign(line: Line): boolean {
  const c = line.text[0];
  return c !== undefined && "?#!0 zZ-".includes(String.fromCharCode(c));
}
