import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { parseElf, parseElfFully, parseElfSource, readElfFile, type ElfFile } from "./elfFile.js";

const haveTools = spawnSync("gcc", ["--version"]).status === 0 && spawnSync("readelf", ["--version"]).status === 0;
if (!haveTools)
  console.log(
    "skipped: the ELF tests compile programs with gcc and read them with readelf (apt-get install gcc libc6-dev binutils)",
  );

const SOURCE = `
#include <stdio.h>
static int counter;
__attribute__((constructor)) static void ctor_first(void) { counter += 1; }
__attribute__((constructor)) static void ctor_second(void) { counter += 2; }
__attribute__((destructor)) static void dtor_only(void) { counter = 0; }
__attribute__((noinline)) int triple(int x) { return x * 3 + counter; }
__attribute__((noinline)) int quadruple(int x) { return x * 4 - counter; }
int main(int argc, char **argv) { (void)argv; printf("%d\\n", triple(argc) + quadruple(argc)); return 0; }
`;

/** gcc flags of each variant built from SOURCE. */
const VARIANTS: Record<string, string[]> = {
  pie: ["-O1", "-fPIE", "-pie"],
  nopie: ["-O1", "-no-pie"],
  static: ["-O1", "-static"],
  staticPie: ["-O1", "-static-pie"],
  sysvHash: ["-O1", "-Wl,--hash-style=sysv"],
  relr: ["-O1", "-Wl,-z,pack-relative-relocs"],
};

let dir: string;
const built: Record<string, string> = {};

function gcc(args: string[]): void {
  execFileSync("gcc", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** readelf's output (it exits 1 on some harmless warnings about libc, so the status is not checked). */
function readelf(args: string[], file: string): string {
  return spawnSync("readelf", ["-W", ...args, file], {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C" },
    maxBuffer: 1 << 28,
  }).stdout;
}

beforeAll(() => {
  if (!haveTools) return;
  dir = mkdtempSync(join(tmpdir(), "homeostat-elf-"));
  writeFileSync(join(dir, "prog.c"), SOURCE);
  for (const [name, flags] of Object.entries(VARIANTS)) {
    built[name] = join(dir, name);
    gcc([...flags, "-o", built[name]!, join(dir, "prog.c")]);
  }
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** What readelf says about a file, for comparison. */
interface Facts {
  kind: "exec" | "dyn";
  entry: number;
  interp?: string;
  needed: string[];
  dynsym: number;
  symtab: number;
  sections: number;
  buildId?: string;
  fdes: { start: number; end: number }[];
  symbols: Map<string, number>;
  relocations: number;
}

function facts(file: string): Facts {
  const header = readelf(["-h"], file);
  const dynamic = readelf(["-d"], file);
  const syms = readelf(["-s"], file);
  const frames =
    readelf(["--debug-dump=frames"], file)
      .split(/^Contents of the /m)
      .find((part) => part.startsWith(".eh_frame section")) ?? "";
  const relocs = readelf(["-r"], file);
  const symbols = new Map<string, number>();
  for (const m of syms.matchAll(/^\s*\d+: ([0-9a-f]{16})\s+\d+\s+\w+\s+\w+\s+\w+\s+\S+\s+(\S+)$/gm)) {
    if (!symbols.has(m[2]!)) symbols.set(m[2]!, parseInt(m[1]!, 16));
  }
  return {
    kind: /Type:\s+EXEC/.test(header) ? "exec" : "dyn",
    entry: parseInt(/Entry point address:\s+0x([0-9a-f]+)/.exec(header)![1]!, 16),
    interp: /\[Requesting program interpreter: (.*)\]/.exec(readelf(["-l"], file))?.[1],
    needed: [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]!),
    dynsym: Number(
      /Symbol table '\.dynsym' contains (\d+) entr(?:y|ies)/.exec(readelf(["--dyn-syms"], file))?.[1] ?? 0,
    ),
    symtab: Number(/Symbol table '\.symtab' contains (\d+) entr(?:y|ies)/.exec(syms)?.[1] ?? 0),
    sections: Number(/Number of section headers:\s+(\d+)/.exec(header)![1]),
    buildId: /Build ID: ([0-9a-f]+)/.exec(readelf(["-n"], file))?.[1],
    fdes: [...frames.matchAll(/ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)/g)]
      .map((m) => ({ start: parseInt(m[1]!, 16), end: parseInt(m[2]!, 16) }))
      .sort((a, b) => a.start - b.start || a.end - b.end),
    symbols,
    relocations:
      [...relocs.matchAll(/^Relocation section '\.rela\.[^']*' at offset 0x[0-9a-f]+ contains (\d+) entr/gm)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      ) + [...relocs.matchAll(/^\s+(\d+) offsets$/gm)].reduce((n, m) => n + Number(m[1]), 0),
  };
}

/** A copy of an ELF with its section header table removed from the header (as `sstrip` does). */
function withoutSectionHeaders(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  view.setBigUint64(40, 0n, true); // e_shoff
  view.setUint16(60, 0, true); // e_shnum
  view.setUint16(62, 0, true); // e_shstrndx
  return copy;
}

function formatError(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected an error");
}

describe.skipIf(!haveTools)("parseElf on programs compiled here, against readelf", () => {
  it.each(Object.keys(VARIANTS))("%s: header, dynamic section, symbols, build-id, relocations and FDEs", (variant) => {
    const file = built[variant]!;
    const elf = readElfFile(file);
    const f = facts(file);
    expect(elf.kind).toBe(f.kind);
    expect(elf.entry).toBe(f.entry);
    expect(elf.interp).toBe(f.interp);
    expect(elf.needed).toEqual(f.needed);
    expect(elf.dynamicSymbols).toHaveLength(f.dynsym);
    expect(elf.symbols).toHaveLength(f.symtab);
    expect(elf.sections).toHaveLength(f.sections);
    expect(elf.buildId).toBe(f.buildId);
    expect(elf.relocations).toHaveLength(f.relocations);
    expect(elf.functionRanges).toEqual(f.fdes);
    expect(f.fdes.length).toBeGreaterThan(3);
    for (const fn of ["main", "triple", "quadruple"]) {
      expect(elf.functionRanges.map((r) => r.start)).toContain(f.symbols.get(fn));
    }
  });

  it.each(Object.keys(VARIANTS))("%s: init and fini arrays hold the constructors and destructors", (variant) => {
    const file = built[variant]!;
    const elf = readElfFile(file);
    const sym = facts(file).symbols;
    expect([...elf.initArray].sort()).toEqual(
      [sym.get("frame_dummy"), sym.get("ctor_first"), sym.get("ctor_second")].sort(),
    );
    expect([...elf.finiArray].sort()).toEqual([sym.get("__do_global_dtors_aux"), sym.get("dtor_only")].sort());
    expect(elf.preinitArray).toEqual([]);
    expect(elf.init).toBe(sym.get("_init"));
    expect(elf.fini).toBe(sym.get("_fini"));
  });

  it("kinds: -no-pie is ET_EXEC, PIE and static-PIE are ET_DYN; static ones have no interpreter or NEEDED", () => {
    expect(readElfFile(built.nopie!).kind).toBe("exec");
    expect(readElfFile(built.pie!).kind).toBe("dyn");
    for (const v of ["static", "staticPie"]) {
      const elf = readElfFile(built[v]!);
      expect(elf.interp).toBeUndefined();
      expect(elf.needed).toEqual([]);
    }
    // Static executables keep IRELATIVE relocations (ifuncs) without a dynamic section.
    expect(readElfFile(built.static!).relocations.every((r) => r.type === 37)).toBe(true);
  });

  it("reads code through PT_LOAD segments", () => {
    const elf = readElfFile(built.pie!);
    const loads = [
      ...readelf(["-l"], built.pie!).matchAll(
        /^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) (.{3})/gm,
      ),
    ].map((m) => ({
      offset: parseInt(m[1]!, 16),
      vaddr: parseInt(m[2]!, 16),
      filesz: parseInt(m[3]!, 16),
      memsz: parseInt(m[4]!, 16),
      exec: m[5]!.includes("E"),
    }));
    const code = loads.filter((l) => l.exec);
    expect(elf.codeRanges().map((r) => ({ vaddr: r.vaddr, length: r.bytes.length }))).toEqual(
      code.map((l) => ({ vaddr: l.vaddr, length: l.filesz })),
    );
    const file = readFileSync(built.pie!);
    const first = code[0]!;
    expect(Buffer.from(elf.read(first.vaddr + 16, 32)!)).toEqual(file.subarray(first.offset + 16, first.offset + 48));
    expect(elf.isCode(elf.entry)).toBe(true);
    expect(elf.read(elf.entry, 4)).toBeDefined();
    const data = loads.find((l) => !l.exec && l.memsz > l.filesz)!;
    expect(elf.isCode(data.vaddr)).toBe(false);
    expect(elf.read(data.vaddr + data.filesz, 8)).toBeUndefined(); // .bss: not file-backed
    expect(elf.read(first.vaddr + first.filesz - 4, 8)).toBeUndefined(); // runs off the segment
  });

  it.each(["pie", "sysvHash", "relr"])(
    "%s: without section headers, PT_DYNAMIC and PT_GNU_EH_FRAME give the same facts",
    (variant) => {
      const bytes = new Uint8Array(readFileSync(built[variant]!));
      const full = parseElf(bytes, "full");
      const bare = parseElf(withoutSectionHeaders(bytes), "bare");
      expect(bare.sections).toEqual([]);
      expect(bare.symbols).toEqual([]);
      const keep = (e: ElfFile) => ({
        needed: e.needed,
        interp: e.interp,
        dynamicSymbols: e.dynamicSymbols,
        relocations: e.relocations,
        initArray: e.initArray,
        finiArray: e.finiArray,
        init: e.init,
        buildId: e.buildId,
        functionRanges: e.functionRanges,
      });
      expect(keep(bare)).toEqual(keep(full));
      expect(bare.dynamicSymbols.length).toBeGreaterThan(3);
    },
  );

  it("relocations carry their dynamic symbol; packed relative relocations (DT_RELR) become R_X86_64_RELATIVE", () => {
    const pie = readElfFile(built.pie!);
    const slot = pie.relocations.find((r) => r.symbol?.name === "printf");
    expect(slot).toMatchObject({ type: 7, symbol: { defined: false, type: 2 } }); // JUMP_SLOT to an undefined FUNC
    const relr = readElfFile(built.relr!);
    const offsets = [
      ...readelf(["-r"], built.relr!)
        .split(".relr.dyn")[1]!
        .matchAll(/^([0-9a-f]{16})$/gm),
    ].map((m) => parseInt(m[1]!, 16));
    expect(offsets.length).toBeGreaterThan(0);
    const relative = relr.relocations.filter((r) => r.type === 8).map((r) => r.offset);
    for (const o of offsets) expect(relative).toContain(o);
  });

  it("shared objects: SONAME, RPATH and RUNPATH split on ':' with $ORIGIN kept", () => {
    writeFileSync(join(dir, "lib.c"), "int lib_value(void) { return 7; }\n");
    const rpath = join(dir, "librp.so");
    const runpath = join(dir, "librun.so");
    const common = ["-shared", "-fPIC", "-Wl,-soname,libdemo.so.1", join(dir, "lib.c")];
    gcc([...common, "-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/a:${ORIGIN}/../b", "-o", rpath]);
    gcc([...common, "-Wl,--enable-new-dtags", "-Wl,-rpath,/opt/x:$ORIGIN", "-o", runpath]);
    const a = readElfFile(rpath);
    expect(a).toMatchObject({
      kind: "dyn",
      soname: "libdemo.so.1",
      rpath: ["$ORIGIN/a", "${ORIGIN}/../b"],
      runpath: [],
    });
    expect(readelf(["-d"], rpath)).toContain("Library rpath: [$ORIGIN/a:${ORIGIN}/../b]");
    const b = readElfFile(runpath);
    expect(b).toMatchObject({ soname: "libdemo.so.1", rpath: [], runpath: ["/opt/x", "$ORIGIN"] });
    expect(b.dynamicSymbols.find((s) => s.name === "lib_value")).toMatchObject({ defined: true, type: 2, bind: 1 });
  });

  it("libc: init_array, relocations and FDEs agree with readelf (libc packs its relative relocations)", () => {
    const path = "/lib/x86_64-linux-gnu/libc.so.6";
    const elf = readElfFile(path);
    const f = facts(path);
    expect(elf.soname).toBe("libc.so.6");
    expect(elf.dynamicSymbols).toHaveLength(f.dynsym);
    expect(elf.relocations).toHaveLength(f.relocations);
    expect(elf.functionRanges).toEqual(f.fdes);
    expect(elf.initArray.length).toBeGreaterThan(0);
    for (const fn of elf.initArray) expect(elf.isCode(fn)).toBe(true);
    expect(elf.dynamicSymbols.some((s) => s.name === "memcpy" && s.type === 10)).toBe(true); // STT_GNU_IFUNC
  });
});

describe("refusals: only ELF64 little-endian x86-64 executables and shared objects", () => {
  const ls = new Uint8Array(readFileSync("/bin/ls"));

  it.each([
    ["an empty file", new Uint8Array(0), /^not an ELF file$/],
    ["a text file", new TextEncoder().encode("hello, world\nthis is text\n"), /^not an ELF file$/],
    [
      "the first 100 bytes of /bin/ls",
      ls.subarray(0, 100),
      /^truncated ELF: the program header table lies past the end of the file$/,
    ],
    ["the first 10 bytes of /bin/ls", ls.subarray(0, 10), /^truncated ELF/],
  ])("%s", (_what, bytes, message) => {
    const err = formatError(() => parseElf(bytes, "input.bin"));
    expect(err.code).toBe("E_FORMAT");
    expect(err.message).toMatch(message);
    expect(err.oneLine()).toMatch(/^input\.bin: [^\n]+$/);
  });

  it("an i386 ELF", () => {
    const i386 = i386Elf();
    const err = formatError(() => parseElf(i386, "prog32"));
    expect(err).toMatchObject({
      code: "E_FORMAT",
      message: "i386 (32-bit) ELF is not supported: static analysis reads x86-64 binaries",
    });
  });

  it("an AArch64 ELF, a big-endian ELF, a relocatable object", () => {
    const arm = new Uint8Array(ls);
    arm[18] = 183;
    arm[19] = 0;
    expect(formatError(() => parseElf(arm, "arm")).message).toBe("ELF for machine 183 (AArch64), not x86-64");
    const big = new Uint8Array(ls);
    big[5] = 2;
    expect(formatError(() => parseElf(big, "big")).message).toMatch(/^big-endian ELF is not supported/);
    const rel = new Uint8Array(ls);
    rel[16] = 1;
    expect(formatError(() => parseElf(rel, "x.o")).message).toBe(
      "ELF type 1 (a relocatable object) is not an executable or shared object",
    );
  });

  it("readElfFile: a missing file is E_NOT_FOUND, a folder E_IO", () => {
    expect(formatError(() => readElfFile("/nonexistent/homeostat/prog"))).toMatchObject({
      code: "E_NOT_FOUND",
      location: { file: "/nonexistent/homeostat/prog" },
    });
    expect(formatError(() => readElfFile(tmpdir()))).toMatchObject({
      code: "E_IO",
      message: "cannot read: is a directory",
    });
  });
});

/** An i386 executable from gcc -m32 when the toolchain has it, else a hand-built 52-byte ELF32 EM_386 header. */
function i386Elf(): Uint8Array {
  if (haveTools) {
    const src = join(dir, "start32.c");
    const out = join(dir, "start32");
    writeFileSync(src, "void _start(void) { for (;;) {} }\n");
    if (spawnSync("gcc", ["-m32", "-nostdlib", "-static", "-o", out, src]).status === 0)
      return new Uint8Array(readFileSync(out));
  }
  const h = new Uint8Array(52);
  h.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  const v = new DataView(h.buffer);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 3, true); // EM_386
  v.setUint32(20, 1, true);
  v.setUint16(40, 52, true); // e_ehsize
  return h;
}

describe("malformed input never throws anything but HomeostatError", () => {
  const expectOnlyHomeostatErrors = (bytes: Uint8Array): void => {
    try {
      // Every part, the lazily parsed ones too (symbols, relocations, arrays, .eh_frame).
      parseElfFully(parseElf(bytes, "fuzz"));
    } catch (err) {
      if (!(err instanceof HomeostatError)) throw err;
      expect(err.code).toBe("E_FORMAT");
      expect(err.message).not.toContain("\n");
    }
  };

  it("random bytes, with and without an ELF64 x86-64 identification", () => {
    const ident = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 62, 0];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.boolean(), (tail, prefixed) => {
        const bytes = prefixed ? new Uint8Array([...ident, ...tail]) : tail;
        expectOnlyHomeostatErrors(bytes);
      }),
      { numRuns: 400 },
    );
  });

  it("mutations and truncations of a real program", () => {
    const original = new Uint8Array(readFileSync(haveTools ? built.pie! : "/bin/true"));
    const elf = parseElf(original, "original");
    // Aim most mutations at the structures the parser follows: headers, the dynamic section, .eh_frame_hdr.
    const hot = [0, 64, ...elf.segments.filter((s) => s.type === 2 || s.type === 0x6474e550).map((s) => s.offset)];
    const shoff = Number(new DataView(original.buffer).getBigUint64(40, true));
    if (shoff > 0) hot.push(shoff);
    const position = fc.oneof(
      fc.nat({ max: original.length - 1 }),
      fc
        .tuple(fc.constantFrom(...hot), fc.nat({ max: 511 }))
        .map(([base, delta]) => Math.min(base + delta, original.length - 1)),
    );
    const mutation = fc.tuple(
      position,
      fc.constantFrom(1, 2, 4, 8),
      fc.constantFrom("random", "zero", "ones", "small"),
      fc.nat(),
    );
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat({ max: original.length }), { nil: undefined }),
        (mutations, cut) => {
          const bytes = new Uint8Array(original);
          for (const [at, width, kind, seed] of mutations) {
            for (let i = 0; i < width && at + i < bytes.length; i++) {
              bytes[at + i] =
                kind === "zero"
                  ? 0
                  : kind === "ones"
                    ? 0xff
                    : kind === "small"
                      ? i === 0
                        ? seed % 256
                        : 0
                      : (seed >>> (i * 4)) & 0xff;
            }
          }
          expectOnlyHomeostatErrors(cut === undefined ? bytes : bytes.subarray(0, cut));
        },
      ),
      { numRuns: 600 },
    );
  });

  it("every truncation of the headers fails cleanly", () => {
    const original = new Uint8Array(readFileSync("/bin/ls"));
    for (let n = 0; n < 1200; n += 7) expectOnlyHomeostatErrors(original.subarray(0, n));
    const sizes = [original.length - 1, Math.floor(original.length / 2), Math.floor(original.length / 3)];
    for (const n of sizes) expectOnlyHomeostatErrors(original.subarray(0, n));
  });
});

/** A copy of an ELF with a 32-bit field of the first section header of this type set to a value. */
function withSectionField(bytes: Uint8Array, type: number, field: number, value: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  const view = new DataView(copy.buffer);
  const shoff = Number(view.getBigUint64(40, true));
  const shnum = view.getUint16(60, true);
  for (let i = 0; i < shnum; i++) {
    if (view.getUint32(shoff + i * 64 + 4, true) !== type) continue;
    view.setUint32(shoff + i * 64 + field, value, true);
    return copy;
  }
  throw new Error(`no section of type ${type}`);
}

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const SH_LINK = 40;
const SH_ENTSIZE = 56;

/** The file's bytes served in pieces, counting what was read; `all` returns `whole` (the file as it is now). */
function piecewise(bytes: Uint8Array, whole: Uint8Array = bytes) {
  const source = {
    read: 0,
    length: bytes.length,
    range(at: number, length: number): Uint8Array {
      source.read += length;
      return bytes.slice(at, at + length);
    },
    all(): Uint8Array {
      source.read += whole.length;
      return whole.slice();
    },
  };
  return source;
}

/** Everything parseElf gives, each part as its value or its error's code and message (for comparing two parses). */
function everything(parse: () => ElfFile): unknown {
  const part = (read: () => unknown): unknown => {
    try {
      return { value: read() };
    } catch (err) {
      expect(err).toBeInstanceOf(HomeostatError);
      return { code: (err as HomeostatError).code, message: (err as HomeostatError).message };
    }
  };
  let elf: ElfFile;
  try {
    elf = parse();
  } catch (err) {
    return part(() => {
      throw err;
    });
  }
  const { kind, entry, segments, interp, needed, rpath, runpath, soname, init, fini, buildId } = elf;
  return {
    eager: { kind, entry, segments, interp, needed, rpath, runpath, soname, init, fini, buildId },
    sections: part(() => elf.sections),
    dynamicSymbols: part(() => elf.dynamicSymbols),
    symbols: part(() => elf.symbols),
    relocations: part(() => elf.relocations),
    arrays: part(() => [elf.initArray, elf.finiArray, elf.preinitArray]),
    functionRanges: part(() => elf.functionRanges),
    code: part(() => elf.codeRanges().map((r) => [r.vaddr, Buffer.from(r.bytes).toString("base64")])),
    atEntry: part(() => elf.read(elf.entry, 16)),
  };
}

/** The outcome of reading one lazily parsed part: its value, or the error it threw. */
function outcome(read: () => unknown): { value?: unknown; error?: unknown } {
  try {
    return { value: read() };
  } catch (error) {
    return { error };
  }
}

describe("lazily parsed parts: symbols, relocations, init/fini arrays and .eh_frame are read on first use", () => {
  const ls = new Uint8Array(readFileSync("/bin/ls"));
  const parts: [string, (e: ElfFile) => unknown][] = [
    ["sections", (e) => e.sections],
    ["dynamicSymbols", (e) => e.dynamicSymbols],
    ["symbols", (e) => e.symbols],
    ["relocations", (e) => e.relocations],
    ["initArray", (e) => e.initArray],
    ["finiArray", (e) => e.finiArray],
    ["preinitArray", (e) => e.preinitArray],
    ["functionRanges", (e) => e.functionRanges],
  ];

  it("a corrupt dynamic symbol table does not stop the loader's facts; its users get E_FORMAT, every time", () => {
    const good = parseElf(ls, "ls");
    const elf = parseElf(withSectionField(ls, SHT_DYNSYM, SH_ENTSIZE, 7), "ls");
    // What the loader and the cache key need is read at once, and agrees with the intact file.
    expect({ needed: elf.needed, interp: elf.interp, buildId: elf.buildId, kind: elf.kind }).toEqual({
      needed: good.needed,
      interp: good.interp,
      buildId: good.buildId,
      kind: good.kind,
    });
    const first = formatError(() => elf.dynamicSymbols);
    expect(first.code).toBe("E_FORMAT");
    expect(first.message).toBe("corrupt ELF: .dynsym entry size 7, not 24");
    expect(formatError(() => elf.dynamicSymbols)).toBe(first);
    // Relocations name dynamic symbols, and the arrays apply relocations: they fail with the same error.
    expect(formatError(() => elf.relocations)).toBe(first);
    expect(formatError(() => elf.initArray)).toBe(first);
    expect(formatError(() => parseElfFully(elf))).toBe(first);
    // .eh_frame does not depend on them.
    expect(elf.functionRanges).toEqual(good.functionRanges);
  });

  it.skipIf(!haveTools)("a corrupt .symtab fails only its own users", () => {
    const bytes = withSectionField(new Uint8Array(readFileSync(built.pie!)), SHT_SYMTAB, SH_LINK, 0);
    const elf = parseElf(bytes, "pie");
    expect(formatError(() => elf.symbols).message).toBe("corrupt ELF: .symtab links to no string table");
    expect(elf.dynamicSymbols.length).toBeGreaterThan(0);
    expect(elf.initArray.length).toBeGreaterThan(0);
  });

  it("read in pieces, a file parses exactly as read whole, and a cached library's headers are a small part of it", () => {
    const libc = "/lib/x86_64-linux-gnu/libc.so.6";
    for (const bytes of existsSync(libc) ? [ls, new Uint8Array(readFileSync(libc))] : [ls]) {
      const source = piecewise(bytes);
      const elf = parseElfSource(source, "file");
      // What the loader and the cache key need: headers, the dynamic section and its strings, the build-id.
      void [elf.needed, elf.soname, elf.buildId, elf.interp];
      expect(source.read).toBeLessThan(Math.max(bytes.length / 10, 128 * 1024));
      expect(everything(() => elf)).toEqual(everything(() => parseElf(bytes, "file")));
      expect(source.read).toBeGreaterThanOrEqual(bytes.length);
    }
  });

  it("a file that changes between its pieces and the whole is refused with E_IO, never parsed as a mixture", () => {
    const changed = new Uint8Array(ls);
    changed[10] = 0x55; // inside the ELF header, which was read first
    const elf = parseElfSource(piecewise(ls, changed), "ls");
    const err = formatError(() => elf.dynamicSymbols);
    expect(err.code).toBe("E_IO");
    expect(err.message).toBe("the file changed while it was being analysed");
    expect(formatError(() => elf.read(elf.entry, 4)).code).toBe("E_IO");
  });

  it("readElfFile: a file replaced after its headers were read fails with E_IO when the rest is wanted", () => {
    const tmp = mkdtempSync(join(tmpdir(), "homeostat-elfswap-"));
    try {
      const file = join(tmp, "ls");
      copyFileSync("/bin/ls", file);
      const elf = readElfFile(file);
      expect(elf.needed).toEqual(parseElf(ls, "ls").needed);
      rmSync(file);
      copyFileSync("/bin/ls", file); // the same bytes, but another file (a new inode)
      expect(formatError(() => elf.relocations).code).toBe("E_IO");
      const again = readElfFile(file);
      expect(again.relocations.length).toBe(parseElf(ls, "ls").relocations.length);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("release: what was parsed on first use is parsed again when used again, from the file read again", () => {
    const source = piecewise(ls);
    const elf = parseElfSource(source, "ls");
    const before = everything(() => elf);
    const read = source.read;
    elf.release();
    expect(everything(() => elf)).toEqual(before);
    expect(source.read).toBeGreaterThanOrEqual(read + ls.length);
    // Given in memory, the bytes stay; the tables are parsed again.
    const inMemory = parseElf(ls, "ls");
    const symbols = inMemory.dynamicSymbols;
    inMemory.release();
    expect(inMemory.dynamicSymbols).not.toBe(symbols);
    expect(inMemory.dynamicSymbols).toEqual(symbols);
  });

  it("for any damage, each part either parses or throws E_FORMAT, and gives the same outcome when asked again", () => {
    const good = parseElf(ls, "ls");
    const hot = [
      Number(new DataView(ls.buffer, ls.byteOffset).getBigUint64(40, true)),
      ...good.segments.filter((s) => s.type === 2).map((s) => s.offset),
      ...good.sections
        .filter((s) => [".dynsym", ".rela.dyn", ".eh_frame", ".init_array"].includes(s.name))
        .map((s) => s.offset),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...hot), fc.nat({ max: 1023 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (mutations) => {
          const bytes = new Uint8Array(ls);
          for (const [base, delta, value] of mutations) bytes[Math.min(base + delta, bytes.length - 1)] = value;
          let elf: ElfFile;
          try {
            elf = parseElf(bytes, "fuzz");
          } catch (err) {
            expect(err).toBeInstanceOf(HomeostatError);
            return;
          }
          // Read in pieces, the same file gives the same values and the same errors.
          expect(everything(() => parseElfSource(piecewise(bytes), "fuzz"))).toEqual(everything(() => elf));
          for (const [, read] of parts) {
            const a = outcome(() => read(elf));
            const b = outcome(() => read(elf));
            if (a.error !== undefined) {
              expect(a.error).toBeInstanceOf(HomeostatError);
              expect((a.error as HomeostatError).code).toBe("E_FORMAT");
            }
            expect(b.error).toBe(a.error);
            expect(b.value).toBe(a.value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("copies on disk", () => {
  it("readElfFile reads what parseElf parses", () => {
    const tmp = mkdtempSync(join(tmpdir(), "homeostat-elfcopy-"));
    try {
      copyFileSync("/bin/ls", join(tmp, "ls"));
      const a = readElfFile(join(tmp, "ls"));
      const b = parseElf(new Uint8Array(readFileSync("/bin/ls")), "/bin/ls");
      expect(a.path).toBe(join(tmp, "ls"));
      expect(a.buildId).toBe(b.buildId);
      expect(a.needed).toEqual(b.needed);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
