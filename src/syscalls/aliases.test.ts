import { describe, expect, it } from "vitest";
import { ABI_NAMES, syscallTable } from "./abi.js";
import { ABI_SYSCALL_ALIAS_LIST, canonicalSyscallName, SYSCALL_ALIAS_LIST, SYSCALL_NAME_ALIASES } from "./aliases.js";

const kernelNames = new Set(ABI_NAMES.flatMap((abi) => syscallTable(abi).names.filter((n) => n !== undefined)));

describe("SYSCALL_NAME_ALIASES", () => {
  it("maps each alias to a kernel table name", () => {
    for (const a of SYSCALL_ALIAS_LIST) expect(kernelNames.has(a.name), `${a.alias} -> ${a.name}`).toBe(true);
  });

  it("only aliases names that are not kernel names on any ABI (otherwise the alias would be ambiguous)", () => {
    const clashing = SYSCALL_ALIAS_LIST.filter((a) => kernelNames.has(a.alias)).map((a) => a.alias);
    expect(clashing).toEqual([]);
  });

  it("holds one entry per alias", () => {
    expect(SYSCALL_NAME_ALIASES.size).toBe(SYSCALL_ALIAS_LIST.length);
    for (const a of SYSCALL_ALIAS_LIST) expect(SYSCALL_NAME_ALIASES.get(a.alias)).toBe(a.name);
  });

  it("does not treat Object.prototype keys as aliases", () => {
    expect(canonicalSyscallName("constructor")).toBe("constructor");
    expect(canonicalSyscallName("toString")).toBe("toString");
  });
});

describe("ABI-specific aliases", () => {
  it("alias only names that the ABI's own table lacks, to names it has", () => {
    for (const abi of ABI_NAMES) {
      const t = syscallTable(abi);
      for (const a of ABI_SYSCALL_ALIAS_LIST[abi]) {
        expect(t.numberOf(a.alias), `${abi} ${a.alias}`).toBeUndefined();
        expect(t.numberOf(a.name), `${abi} ${a.name}`).toBeDefined();
      }
    }
  });

  it("apply only with their ABI", () => {
    expect(canonicalSyscallName("umount", "x86_64")).toBe("umount2");
    expect(canonicalSyscallName("umount", "i386")).toBe("umount");
    expect(canonicalSyscallName("umount")).toBe("umount");
  });
});

describe("canonicalSyscallName", () => {
  it("resolves tracer spellings and is idempotent", () => {
    expect(canonicalSyscallName("pread")).toBe("pread64");
    expect(canonicalSyscallName("llseek")).toBe("_llseek");
    expect(canonicalSyscallName("_exit", "x86_64")).toBe("exit");
    for (const name of [...kernelNames, ...SYSCALL_NAME_ALIASES.keys(), "syscall_999", "#4"]) {
      for (const abi of [undefined, ...ABI_NAMES]) {
        const once = canonicalSyscallName(name, abi);
        expect(canonicalSyscallName(once, abi)).toBe(once);
      }
    }
  });

  it("leaves every kernel name of an ABI unchanged on that ABI", () => {
    for (const abi of ABI_NAMES) {
      for (const name of syscallTable(abi).names) {
        if (name !== undefined) expect(canonicalSyscallName(name, abi)).toBe(name);
      }
    }
  });
});
