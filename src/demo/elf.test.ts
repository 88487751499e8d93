import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElf } from "./elf.js";
import { ownLibcPath } from "./exploitClient.js";
import { buildTarget } from "./target.js";

let dir: string;
let binary: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-elf-"));
  binary = await buildTarget(path.join(dir, "bin"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("readElf", () => {
  it("finds the same function addresses as nm in the demo target", () => {
    const nm = execFileSync("nm", ["--defined-only", binary], { encoding: "utf8" });
    const info = readElf(binary);
    let checked = 0;
    for (const line of nm.split("\n")) {
      const m = /^([0-9a-f]+) [tT] (\w+)$/.exec(line);
      if (m === null) continue;
      expect(info.symbols.get(m[2]!), m[2]).toBe(BigInt(`0x${m[1]}`));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("finds the same JUMP_SLOT GOT addresses as readelf -r", () => {
    const out = execFileSync("readelf", ["-rW", binary], { encoding: "utf8" });
    const info = readElf(binary);
    let checked = 0;
    for (const line of out.split("\n")) {
      const m = /^([0-9a-f]+)\s+[0-9a-f]+\s+R_X86_64_JUMP_SLOT\s+[0-9a-f]+\s+(\w+)/.exec(line);
      if (m === null) continue;
      expect(info.gotSlots.get(m[2]!), m[2]).toBe(BigInt(`0x${m[1]}`));
      checked++;
    }
    expect(checked).toBeGreaterThan(5);
    expect(info.gotSlots.has("read")).toBe(true);
  });

  it("reads libc's dynamic symbols like nm -D", () => {
    const libc = ownLibcPath();
    const nm = execFileSync("nm", ["-D", "--defined-only", libc], { encoding: "utf8" });
    const info = readElf(libc);
    for (const name of ["system", "read", "write"]) {
      const m = new RegExp(`^([0-9a-f]+) [TW] ${name}@@`, "m").exec(nm);
      expect(m, name).not.toBeNull();
      expect(info.symbols.get(name), name).toBe(BigInt(`0x${m![1]}`));
    }
  });

  it("rejects a file that is not ELF", () => {
    const f = path.join(dir, "not-elf");
    writeFileSync(f, "#!/bin/sh\necho hello\n".repeat(10));
    expect(() => readElf(f)).toThrow(expect.objectContaining({ code: "E_FORMAT" }));
  });
});
