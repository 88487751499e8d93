import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { MAX_VOCABULARY, opaqueToken, unknownSyscallToken, Vocabulary } from "./vocabulary.js";

/** Concatenates byte tokens into one buffer (with a junk prefix) so internBytes sees real offsets. */
function pack(tokens: readonly Uint8Array[]): { buf: Uint8Array; spans: [number, number][] } {
  const total = 3 + tokens.reduce((s, t) => s + t.length + 1, 0);
  const buf = new Uint8Array(total);
  buf.set([0xff, 0x20, 0x00]);
  const spans: [number, number][] = [];
  let at = 3;
  for (const t of tokens) {
    buf.set(t, at);
    spans.push([at, at + t.length]);
    at += t.length;
    buf[at++] = 0x20;
  }
  return { buf, spans };
}

const decode = (b: Uint8Array): string => Buffer.from(b).toString("utf8");

function expectVocabError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    expect((err as HomeostatError).code).toBe("E_VOCAB");
    return;
  }
  expect.unreachable("expected an E_VOCAB error");
}

describe("Vocabulary.intern", () => {
  it("gives dense ids in order of first appearance and round-trips tokens", () => {
    const v = new Vocabulary();
    expect(v.intern("read")).toBe(0);
    expect(v.intern("write")).toBe(1);
    expect(v.intern("read")).toBe(0);
    expect(v.size).toBe(2);
    expect(v.token(1)).toBe("write");
    expect(v.toArray()).toEqual(["read", "write"]);
  });

  it("interns constructor tokens first", () => {
    const v = new Vocabulary(["open", "close", "open"]);
    expect(v.size).toBe(2);
    expect(v.intern("close")).toBe(1);
  });

  it("looks up without adding", () => {
    const v = new Vocabulary(["read"]);
    expect(v.lookup("read")).toBe(0);
    expect(v.lookup("write")).toBe(-1);
    expect(v.size).toBe(1);
  });

  it("rejects ids it does not hold", () => {
    const v = new Vocabulary(["read"]);
    expectVocabError(() => v.token(1));
    expectVocabError(() => v.token(-1));
  });

  it("keeps ids stable and distinct for any token sequence (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 8 }), { maxLength: 100 }), (tokens) => {
        const v = new Vocabulary();
        const ids = tokens.map((t) => v.intern(t));
        const distinct = [...new Set(tokens)];
        expect(v.size).toBe(distinct.length);
        tokens.forEach((t, i) => {
          expect(v.token(ids[i]!)).toBe(t);
          expect(ids[i]).toBe(distinct.indexOf(t));
        });
      }),
    );
  });
});

describe("Vocabulary.internBytes", () => {
  it("gives random byte tokens the same ids as their decoded strings (separate vocabularies)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 120 }), (tokens) => {
        const { buf, spans } = pack(tokens);
        const byBytes = new Vocabulary();
        const byString = new Vocabulary();
        const idsBytes = spans.map(([s, e]) => byBytes.internBytes(buf, s, e));
        const idsString = tokens.map((t) => byString.intern(decode(t)));
        expect(idsBytes).toEqual(idsString);
        expect(byBytes.toArray()).toEqual(byString.toArray());
      }),
    );
  });

  it("gives the same id whichever path interns a token first (one vocabulary)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 10 }), fc.boolean()), { maxLength: 120 }), (ops) => {
        const { buf, spans } = pack(ops.map(([t]) => t));
        const v = new Vocabulary();
        ops.forEach(([t, viaBytes], i) => {
          const [s, e] = spans[i]!;
          const id = viaBytes ? v.internBytes(buf, s, e) : v.intern(decode(t));
          expect(v.token(id)).toBe(decode(t));
          // Both paths agree afterwards, and neither adds a token.
          const size = v.size;
          expect(v.internBytes(buf, s, e)).toBe(id);
          expect(v.intern(decode(t))).toBe(id);
          expect(v.size).toBe(size);
        });
      }),
    );
  });

  it("agrees with intern for any well-formed Unicode string", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 6 }), { maxLength: 60 }), (tokens) => {
        const v = new Vocabulary();
        for (const t of tokens) {
          const bytes = Buffer.from(t, "utf8");
          const viaBytes = v.internBytes(bytes, 0, bytes.length);
          expect(v.intern(t)).toBe(viaBytes);
          expect(v.token(viaBytes)).toBe(t);
        }
      }),
    );
  });

  it("keeps ids and tokens after growing well beyond its initial 1024 slots", () => {
    const n = 5000;
    const names = Array.from({ length: n }, (_, i) => `call_${i.toString(36)}_${i}`);
    const { buf, spans } = pack(names.map((s) => Buffer.from(s, "utf8")));
    const v = new Vocabulary();
    // Alternate the first path so both the string and byte indexes must survive the rehashes.
    names.forEach((s, i) => {
      const [a, b] = spans[i]!;
      expect(i % 2 === 0 ? v.internBytes(buf, a, b) : v.intern(s)).toBe(i);
    });
    expect(v.size).toBe(n);
    names.forEach((s, i) => {
      const [a, b] = spans[i]!;
      expect(v.internBytes(buf, a, b)).toBe(i);
      expect(v.intern(s)).toBe(i);
      expect(v.token(i)).toBe(s);
    });
    expect(v.size).toBe(n);
  });

  it("throws E_VOCAB beyond MAX_VOCABULARY tokens, and ids still fit in a Uint16Array", () => {
    const v = new Vocabulary();
    for (let i = 0; i < MAX_VOCABULARY; i++) v.intern(`t${i}`);
    expect(v.size).toBe(MAX_VOCABULARY);
    const last = v.intern(`t${MAX_VOCABULARY - 1}`);
    expect(new Uint16Array([last])[0]).toBe(last);
    expectVocabError(() => v.intern("one_too_many"));
    const bytes = Buffer.from("one_too_many_bytes");
    expectVocabError(() => v.internBytes(bytes, 0, bytes.length));
    // Known tokens are still found by both paths.
    const known = Buffer.from("t12345");
    expect(v.internBytes(known, 0, known.length)).toBe(12345);
    expect(v.size).toBe(MAX_VOCABULARY);
  });
});

describe("Vocabulary.mapFrom", () => {
  it("maps another vocabulary's ids onto this one's, adding missing tokens", () => {
    const a = new Vocabulary(["read", "write", "open"]);
    const b = new Vocabulary(["open", "mmap", "read"]);
    const map = a.mapFrom(b);
    expect(map).toBeInstanceOf(Uint16Array);
    expect([...map]).toEqual([2, 3, 0]);
    for (let id = 0; id < b.size; id++) expect(a.token(map[id]!)).toBe(b.token(id));
  });
});

describe("token helpers", () => {
  it("spell unknown syscalls and opaque symbols distinctly", () => {
    expect(unknownSyscallToken(451)).toBe("syscall_451");
    expect(opaqueToken(7)).toBe("#7");
    fc.assert(fc.property(fc.nat(), (n) => unknownSyscallToken(n) !== opaqueToken(n)));
  });
});
