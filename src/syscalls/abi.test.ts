import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { ABI_NAMES, AbiMapper, isAbiName, syscallTable } from "./abi.js";
import { I386_SYSCALLS } from "./i386.js";
import { unknownSyscallToken, Vocabulary } from "./vocabulary.js";
import { X86_64_SYSCALLS } from "./x86_64.js";

describe("ABI names", () => {
  it("recognises exactly the two ABIs", () => {
    expect([...ABI_NAMES].sort()).toEqual(["i386", "x86_64"]);
    for (const abi of ABI_NAMES) expect(isAbiName(abi)).toBe(true);
    for (const s of ["x86-64", "amd64", "i686", "x32", "", "X86_64"]) expect(isAbiName(s)).toBe(false);
  });

  it("gives each ABI its own table", () => {
    expect(syscallTable("x86_64").abi).toBe("x86_64");
    expect(syscallTable("i386").abi).toBe("i386");
    expect(syscallTable("x86_64").names[3]).toBe("close");
    expect(syscallTable("i386").names[3]).toBe("read");
  });
});

describe.each([
  ["x86_64", X86_64_SYSCALLS],
  ["i386", I386_SYSCALLS],
] as const)("AbiMapper(%s)", (abi, entries) => {
  it("maps every number of the table to its name", () => {
    const vocab = new Vocabulary();
    const m = new AbiMapper(syscallTable(abi), vocab);
    for (const [n, name] of entries) expect(vocab.token(m.id(n))).toBe(name);
    expect(vocab.size).toBe(entries.length);
  });

  it("answers repeated numbers from its cache without growing the vocabulary", () => {
    const vocab = new Vocabulary();
    const m = new AbiMapper(syscallTable(abi), vocab);
    const first = entries.map(([n]) => m.id(n));
    const size = vocab.size;
    expect(entries.map(([n]) => m.id(n))).toEqual(first);
    expect(vocab.size).toBe(size);
  });

  it("maps numbers the table does not name to syscall_<n>, inside and beyond the cache", () => {
    const t = syscallTable(abi);
    const vocab = new Vocabulary();
    const m = new AbiMapper(t, vocab);
    const last = entries[entries.length - 1]![0];
    const unnamed = [400, last + 1, 511, 512, 600, 4096, 70_000].filter((n) => t.names[n] === undefined);
    expect(unnamed.length).toBeGreaterThan(4);
    for (const n of unnamed) {
      const id = m.id(n);
      expect(vocab.token(id)).toBe(unknownSyscallToken(n));
      expect(m.id(n)).toBe(id);
    }
  });

  it("maps any non-negative integer to its name or syscall_<n> (property)", () => {
    const t = syscallTable(abi);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3000 }), { maxLength: 200 }), (ns) => {
        const vocab = new Vocabulary();
        const m = new AbiMapper(t, vocab);
        for (const n of ns) expect(vocab.token(m.id(n))).toBe(t.names[n] ?? unknownSyscallToken(n));
      }),
    );
  });

  it("rejects numbers that are not non-negative integers", () => {
    const vocab = new Vocabulary();
    const m = new AbiMapper(syscallTable(abi), vocab);
    const bad = [-1, -400, Number.NaN, 1.5, 3.25, 600.5, Number.POSITIVE_INFINITY];
    const accepted = bad.filter((n) => {
      try {
        m.id(n);
        return true;
      } catch (err) {
        expect(err).toBeInstanceOf(HomeostatError);
        expect((err as HomeostatError).code).toBe("E_VOCAB");
        return false;
      }
    });
    expect(accepted, "numbers id() accepted (it interned them as syscall_<n>)").toEqual([]);
  });
});

describe("AbiMapper over a shared vocabulary", () => {
  it("gives a call the same id whichever ABI numbered it", () => {
    const vocab = new Vocabulary();
    const x64 = new AbiMapper(syscallTable("x86_64"), vocab);
    const i386 = new AbiMapper(syscallTable("i386"), vocab);
    expect(x64.id(0)).toBe(i386.id(3)); // read
    expect(x64.id(257)).toBe(i386.id(295)); // openat
    expect(vocab.token(i386.id(102))).toBe("socketcall");
    expect(vocab.token(x64.id(102))).toBe("getuid");
  });
});
