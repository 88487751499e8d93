// Property tests of the strace parser: arbitrary bytes and mutated real strace lines only ever produce typed
// HomeostatErrors (never another exception, never a hang); generated well-formed lines (random names, arguments
// with quotes, escapes, parentheses and `) = ` inside strings, every return-value form, pid and timestamp
// prefixes, unfinished/resumed splits) parse to the generated name, return value, stream, time and arguments.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isHomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { ParserOptions } from "./format.js";
import { StraceParser } from "./straceParser.js";
import { captureStrace, straceUnavailableReason } from "./testing/straceCapture.js";

interface Ev {
  stream: number;
  name: string;
  time: number;
  ret: number;
  args: string | undefined;
}

function run(input: Uint8Array, opts: Partial<ParserOptions> = {}, chunk = 0): Ev[] {
  const vocab = new Vocabulary();
  const out: Ev[] = [];
  const parser = new StraceParser({
    file: "gen.strace",
    ...opts,
    vocab,
    sink: {
      beginSource() {},
      endSource() {},
      call(stream, syscall, time, ret, args) {
        out.push({ stream, name: vocab.token(syscall), time, ret, args });
      },
      note() {},
    },
  });
  if (chunk <= 0) parser.write(input);
  else for (let i = 0; i < input.length; i += chunk) parser.write(input.subarray(i, i + chunk));
  parser.end();
  return out;
}

/** Runs the parser and returns the thrown value (undefined when none). */
function thrown(input: Uint8Array, opts: Partial<ParserOptions> = {}, chunk = 0): unknown {
  try {
    run(input, opts, chunk);
    return undefined;
  } catch (e) {
    return e;
  }
}

const enc = (s: string): Uint8Array => Buffer.from(s, "utf8");

// ------------------------------------------------------------------------------------------------ generators

const nameArb = fc
  .tuple(
    fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz_"),
    fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789_"), maxLength: 20 }),
  )
  .map(([a, b]) => a + b)
  .filter((n) => !n.startsWith("syscall_0x"));

/** A C string as strace prints it: printable bytes as is, `"` and `\` escaped, the rest as \n, \t, \ooo, \xHH. */
const quotedArb = fc
  .array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 })
  .chain((bytes) =>
    fc.constantFrom("octal", "hex").map((style) => {
      let s = '"';
      for (const c of bytes) {
        if (c === 0x22) s += '\\"';
        else if (c === 0x5c) s += "\\\\";
        else if (c === 10) s += "\\n";
        else if (c === 9) s += "\\t";
        else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
        else s += style === "octal" ? `\\${c.toString(8)}` : `\\x${c.toString(16).padStart(2, "0")}`;
      }
      return `${s}"`;
    }),
  )
  .chain((q) => fc.constantFrom(q, `${q}...`));

/** A string carrying the traps: parentheses, `) = `, `<unfinished ...>`, quotes. */
const trapArb = fc
  .array(
    fc.constantFrom(") = 0", "(", ")", " = ", '\\"', "\\\\", "<unfinished ...>", "<... x resumed>", "+++", "---", "a"),
    {
      maxLength: 8,
    },
  )
  .map((parts) => `"${parts.join("")}"`);

const argArb: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1, max: 100_000 }).map(String),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => `0x${n.toString(16)}`),
  fc.constantFrom("NULL", "AT_FDCWD", "O_RDONLY|O_CLOEXEC", "~[RTMIN RT_1]", "[]", "0x7ffe0 /* 35 vars */"),
  quotedArb,
  trapArb,
  fc
    .tuple(
      fc.integer({ min: 0, max: 99 }),
      fc.constantFrom("/etc/passwd", "pipe:[123]", "TCP:[1.2.3.4:80->5.6.7.8:99]"),
    )
    .map(([fd, p]) => `${fd}<${p}>`),
  fc
    .tuple(quotedArb, fc.integer({ min: 0, max: 9 }))
    .map(([q, n]) => `{st_mode=S_IFREG|0644, name=${q}, x=[${n}, {a=${n}}], ...}`),
  fc.constant("[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"),
);

const argsArb = fc.array(argArb, { maxLength: 6 });

interface Ret {
  text: string;
  value: number;
}
const retArb: fc.Arbitrary<Ret> = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 }).map((n) => ({ text: String(n), value: n })),
  fc
    .constantFrom("ENOENT (No such file or directory)", "EAGAIN (Resource temporarily unavailable)", "(errno 2)")
    .map((e) => ({ text: `-1 ${e}`, value: -1 })),
  fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }).map((n) => ({ text: `0x${n.toString(16)}`, value: Number(n) })),
  fc.integer({ min: 0, max: 0o777 }).map((n) => ({ text: `0${n.toString(8)}`, value: n })),
  fc.constantFrom(
    { text: "?", value: Number.NaN },
    { text: "? ERESTARTSYS (To be restarted if SA_RESTART is set)", value: Number.NaN },
    { text: "? <unavailable>", value: Number.NaN },
  ),
  fc.integer({ min: 0, max: 999 }).map((n) => ({ text: `${n}</tmp/a b) = c>`, value: n })),
  fc.integer({ min: 0, max: 9 }).map((n) => ({ text: `${n} (Timeout)`, value: n })),
  fc.integer({ min: 0, max: 9 }).map((n) => ({ text: `${n} ([{fd=3, revents=POLLIN}])`, value: n })),
);

interface Leader {
  text: string;
  pid: number | undefined;
  time: number;
}
const pidArb = fc.integer({ min: 1, max: 4_194_304 });
const leaderArb: fc.Arbitrary<Leader> = fc
  .tuple(
    fc.oneof(
      fc.constant({ text: "", pid: undefined as number | undefined }),
      pidArb.map((p) => ({ text: `[pid ${String(p).padStart(5)}] `, pid: p as number | undefined })),
      pidArb.map((p) => ({ text: `${String(p).padEnd(5)} `, pid: p as number | undefined })),
    ),
    fc.oneof(
      fc.constant({ text: "", time: Number.NaN }),
      fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m, s]) => ({
          text: `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")} `,
          time: h * 3600 + m * 60 + s,
        })),
      fc.tuple(fc.integer({ min: 0, max: 86_399 }), fc.integer({ min: 0, max: 999_999 })).map(([t, us]) => {
        const h = Math.floor(t / 3600);
        const m = Math.floor((t % 3600) / 60);
        const s = t % 60;
        const p2 = (n: number) => String(n).padStart(2, "0");
        return { text: `${p2(h)}:${p2(m)}:${p2(s)}.${String(us).padStart(6, "0")} `, time: t + us / 1e6 };
      }),
      fc
        .tuple(fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }), fc.integer({ min: 0, max: 999_999 }))
        .map(([s, us]) => ({ text: `${s}.${String(us).padStart(6, "0")} `, time: s + us / 1e6 })),
    ),
  )
  .map(([p, t]) => ({ text: p.text + t.text, pid: p.pid, time: t.time }));

interface Call {
  leader: Leader;
  name: string;
  args: string[];
  ret: Ret;
  pad: number;
  duration: string;
  split: number; // -1: one line; else the arg index where an unfinished/resumed pair splits
}
const callArb: fc.Arbitrary<Call> = fc
  .record({
    leader: leaderArb,
    name: nameArb,
    args: argsArb,
    ret: retArb,
    pad: fc.integer({ min: 1, max: 40 }),
    duration: fc.constantFrom("", " <0.000012>", " <12.345678>"),
    split: fc.integer({ min: -1, max: 6 }),
  })
  .map((c) => ({ ...c, split: Math.min(c.split, c.args.length) }));

function renderCall(c: Call): { lines: string[]; args: string } {
  const all = c.args.join(", ");
  const tail = `)${" ".repeat(c.pad)}= ${c.ret.text}${c.ret.text.startsWith("?") ? "" : c.duration}`;
  if (c.split < 0) return { lines: [`${c.leader.text}${c.name}(${all}${tail}`], args: all };
  const first = c.args
    .slice(0, c.split)
    .map((a, i) => (i < c.split ? `${a}, ` : a))
    .join("");
  const second = c.args.slice(c.split).join(", ");
  return {
    lines: [
      `${c.leader.text}${c.name}(${first} <unfinished ...>`,
      `${c.leader.text}<... ${c.name} resumed>${second}${tail}`,
    ],
    args: first + second,
  };
}

function same(a: number, b: number): boolean {
  return Number.isNaN(a) ? Number.isNaN(b) : Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a));
}

// ------------------------------------------------------------------------------------------------ properties

describe("strace parser properties", () => {
  it("generated well-formed lines parse to their name, return value, stream, time and arguments", () => {
    fc.assert(
      fc.property(
        fc.array(callArb, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 64 }),
        (calls, chunk) => {
          // One leader for the file: strace does not mix prefix or timestamp styles within one output.
          const leader = calls[0]!.leader;
          const lines: string[] = [];
          const expected: { name: string; ret: number; time: number; args: string; stream: number }[] = [];
          for (const c of calls) {
            const r = renderCall({ ...c, leader });
            lines.push(...r.lines);
            expected.push({
              name: c.name,
              ret: c.ret.value,
              time: leader.time,
              args: r.args,
              stream: leader.pid ?? 0,
            });
          }
          const got = run(enc(`${lines.join("\n")}\n`), { keepArgs: true }, chunk);
          expect(got.length).toBe(expected.length);
          got.forEach((g, i) => {
            const e = expected[i]!;
            expect(g.name).toBe(e.name);
            expect(same(g.ret, e.ret), `ret ${g.ret} vs ${e.ret} in ${lines.join("\n")}`).toBe(true);
            expect(g.stream).toBe(e.stream);
            expect(g.args).toBe(e.args);
            expect(same(g.time, e.time), `time ${g.time} vs ${e.time}`).toBe(true);
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it("times of day without a midnight crossing are read exactly", () => {
    fc.assert(
      fc.property(callArb, (c) => {
        const r = renderCall({ ...c, split: -1 });
        const got = run(enc(r.lines.join("\n")));
        expect(got.length).toBe(1);
        if (Number.isNaN(c.leader.time)) expect(got[0]!.time).toBeNaN();
        else expect(same(got[0]!.time, c.leader.time)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("-t/-tt times keep increasing across midnight", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.integer({ min: 1, max: 3600 }),
        fc.boolean(),
        (before, after, micro) => {
          const fmt = (t: number) => {
            const p2 = (n: number) => String(n).padStart(2, "0");
            const s = `${p2(Math.floor(t / 3600))}:${p2(Math.floor((t % 3600) / 60))}:${p2(t % 60)}`;
            return micro ? `${s}.000001` : s;
          };
          const t1 = 86_400 - before;
          const text = `${fmt(t1)} getpid() = 1\n${fmt(after)} getpid() = 1\n`;
          const [a, b] = run(enc(text));
          const frac = micro ? 1e-6 : 0;
          expect(same(a!.time, t1 + frac)).toBe(true);
          expect(same(b!.time, 86_400 + after + frac)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("random bytes only ever raise a HomeostatError, strict or lenient", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 50 }),
        (bytes, lenient, chunk) => {
          const e = thrown(bytes, { lenient }, chunk);
          if (e !== undefined) expect(isHomeostatError(e), String(e)).toBe(true);
          if (lenient && e !== undefined) expect(isHomeostatError(e) && e.code).toBe("E_LIMIT");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("text over strace's own alphabet only ever raises a HomeostatError", () => {
    const alphabet = [
      ...'()[]{}<>"\\=,.:?+-| \n0123456789abcx_',
      "<... ",
      " resumed>",
      " <unfinished ...>",
      "[pid ",
      "+++ ",
      "--- ",
      ") = ",
      "strace: Process 12 attached",
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 300 }), fc.boolean(), (parts, lenient) => {
        const e = thrown(enc(parts.join("")), { lenient });
        if (e !== undefined) expect(isHomeostatError(e), String(e)).toBe(true);
        if (lenient) expect(e).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  const noStrace = straceUnavailableReason();
  if (noStrace !== undefined) console.log(`skipping mutation test: ${noStrace}`);
  it.skipIf(noStrace !== undefined)("mutated real strace lines only ever raise a HomeostatError", () => {
    const real = captureStrace(
      ["-f", "-tt", "-T", "-y"],
      ["sh", "-c", "sleep 0.05 & cat /etc/hostname >/dev/null; wait"],
    ).text;
    const lines = real.toString("latin1").split("\n");
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: lines.length - 1 }),
        fc.array(
          fc.record({
            at: fc.nat(),
            op: fc.constantFrom("delete", "insert", "replace"),
            byte: fc.constantFrom(0x22, 0x5c, 0x28, 0x29, 0x3d, 0x20, 0x3c, 0x3e, 0x0a, 0x00, 0xff, 0x30, 0x2e),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.boolean(),
        (start, muts, lenient) => {
          const bytes = [...Buffer.from(lines.slice(start, start + 5).join("\n"), "latin1")];
          for (const m of muts) {
            const at = bytes.length === 0 ? 0 : m.at % bytes.length;
            if (m.op === "delete") bytes.splice(at, 1);
            else if (m.op === "insert") bytes.splice(at, 0, m.byte);
            else bytes[at] = m.byte;
          }
          const e = thrown(Uint8Array.from(bytes), { lenient });
          if (e !== undefined) expect(isHomeostatError(e), String(e)).toBe(true);
          if (lenient) expect(e).toBeUndefined();
        },
      ),
      { numRuns: 1000 },
    );
  });
});
