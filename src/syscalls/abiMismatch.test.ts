import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADFA_DIR, skipWithout } from "../testing/paths.js";
import { syscallTable } from "./abi.js";
import { abiMismatch, nativeAbi } from "./abiMismatch.js";
import { I386_SYSCALLS } from "./i386.js";
import { opaqueToken, unknownSyscallToken } from "./vocabulary.js";
import { X86_64_SYSCALLS } from "./x86_64.js";

const X86_64_NAMES = X86_64_SYSCALLS.map(([, name]) => name);
const TRAINING = path.join(ADFA_DIR, "Training_Data_Master");

describe("abiMismatch", () => {
  it("finds nothing wrong with x86_64 names, strace's old aliases and unknown numbers on x86_64", () => {
    expect(abiMismatch(X86_64_NAMES, "x86_64")).toBeUndefined();
    const strace = ["execve", "brk", "mmap", "newfstatat", "_exit", "pread", unknownSyscallToken(462), "exit_group"];
    expect(abiMismatch(strace, "x86_64")).toBeUndefined();
    expect(abiMismatch([], "x86_64")).toBeUndefined();
    expect(abiMismatch([unknownSyscallToken(1)], "x86_64")).toBeUndefined();
  });

  it("names i386 as the likely ABI of i386-only names, with them as evidence", () => {
    const m = abiMismatch(["read", "write", "mmap2", "fstat64", "close", "_llseek"], "x86_64");
    expect(m).toEqual({
      likely: "i386",
      foreign: ["mmap2", "fstat64", "_llseek"],
      otherOnly: ["mmap2", "fstat64", "_llseek"],
      weighed: 6,
    });
    // Seen the other way round: x86_64-only names in a profile scored on i386.
    expect(abiMismatch(["read", "newfstatat", "accept", "semop"], "i386")?.likely).toBe("x86_64");
  });

  it("tolerates a few foreign names among many of the live ABI (a 32-bit helper in an x86_64 trace)", () => {
    expect(abiMismatch([...X86_64_NAMES.slice(0, 40), "mmap2"], "x86_64")).toBeUndefined();
    expect(abiMismatch([...X86_64_NAMES.slice(0, 19), "mmap2"], "x86_64")?.likely).toBe("i386");
  });

  it("reports a vocabulary mostly outside the live table without naming an ABI (UNM's opaque symbols)", () => {
    const unm = Array.from({ length: 30 }, (_, i) => opaqueToken(i));
    const m = abiMismatch(unm, "x86_64");
    expect(m?.likely).toBeUndefined();
    expect(m?.foreign).toHaveLength(30);
    expect(abiMismatch([...unm.slice(0, 10), ...X86_64_NAMES.slice(0, 11)], "x86_64")).toBeUndefined();
  });

  it("maps Node's arch to the native ABI where homeostat has a table", () => {
    expect(nativeAbi("x64")).toBe("x86_64");
    expect(nativeAbi("ia32")).toBe("i386");
    expect(nativeAbi("arm64")).toBeUndefined();
  });

  it.skipIf(skipWithout(TRAINING))("calls the names of each of ten real ADFA-LD training traces i386", () => {
    const i386 = syscallTable("i386");
    for (const file of readdirSync(TRAINING).sort().slice(0, 10)) {
      const numbers = new Set(readFileSync(path.join(TRAINING, file), "utf8").trim().split(/\s+/).map(Number));
      const names = [...numbers].map((n) => i386.names[n] ?? unknownSyscallToken(n));
      expect(abiMismatch(names, "x86_64")?.likely, file).toBe("i386");
      expect(abiMismatch(names, "i386"), file).toBeUndefined();
    }
  });

  it("never calls the i386 table itself anything but i386", () => {
    const names = I386_SYSCALLS.map(([, name]) => name);
    expect(abiMismatch(names, "i386")).toBeUndefined();
    expect(abiMismatch(names, "x86_64")?.likely).toBe("i386");
  });
});
