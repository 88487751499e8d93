import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { loadProgram, readVdso, type LoadedProgram } from "./programLoader.js";

const haveTools = spawnSync("gcc", ["--version"]).status === 0 && spawnSync("ldd", ["--version"]).status === 0;
if (!haveTools)
  console.log(
    "skipped: the loader tests compile programs with gcc and compare with ldd (apt-get install gcc libc6-dev)",
  );

let dir: string;
const p = (...parts: string[]): string => join(dir, ...parts);

function gcc(args: string[]): void {
  execFileSync("gcc", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function script(name: string, text: string): string {
  writeFileSync(p(name), text);
  chmodSync(p(name), 0o755);
  return p(name);
}

beforeAll(() => {
  if (!haveTools) return;
  dir = mkdtempSync(join(tmpdir(), "homeostat-loader-"));
  for (const d of ["lib", "alt", "arm", "gone", "plugins/sub"]) mkdirSync(p(d), { recursive: true });
  writeFileSync(p("foo.c"), "int foo(void) { return FOO; }\n");
  writeFileSync(p("bar.c"), "int foo(void);\nint bar(void) { return foo() + 1; }\n");
  writeFileSync(p("gone.c"), "int gone(void) { return 3; }\n");
  writeFileSync(p("main.c"), "int foo(void);\nint main(void) { return foo(); }\n");
  writeFileSync(p("mainbar.c"), "int bar(void);\nint main(void) { return bar(); }\n");
  writeFileSync(p("maingone.c"), "int gone(void);\nint main(void) { return gone(); }\n");
  writeFileSync(p("static.c"), "int main(void) { return 0; }\n");
  writeFileSync(p("p1.c"), "#include <math.h>\nvolatile double x = 1.0;\ndouble plugin_one(void) { return cos(x); }\n");
  writeFileSync(p("p2.c"), "int plugin_two(void) { return 2; }\n");
  const shared = ["-shared", "-fPIC"];
  gcc([...shared, "-DFOO=1", "-o", p("lib/libfoo.so"), p("foo.c")]);
  gcc([...shared, "-DFOO=2", "-o", p("alt/libfoo.so"), p("foo.c")]);
  gcc([...shared, "-o", p("lib/libbar.so"), p("bar.c"), `-L${p("lib")}`, "-lfoo"]);
  gcc([...shared, "-o", p("gone/libgone.so"), p("gone.c")]);
  const rpath = ["-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/lib"];
  const runpath = ["-Wl,--enable-new-dtags", "-Wl,-rpath,$ORIGIN/lib"];
  gcc(["-o", p("prog-rpath"), p("main.c"), `-L${p("lib")}`, "-lfoo", ...rpath]);
  gcc(["-o", p("prog-runpath"), p("main.c"), `-L${p("lib")}`, "-lfoo", ...runpath]);
  gcc(["-o", p("bar-rpath"), p("mainbar.c"), `-L${p("lib")}`, "-lbar", `-Wl,-rpath-link,${p("lib")}`, ...rpath]);
  gcc(["-o", p("bar-runpath"), p("mainbar.c"), `-L${p("lib")}`, "-lbar", `-Wl,-rpath-link,${p("lib")}`, ...runpath]);
  gcc(["-o", p("prog-gone"), p("maingone.c"), `-L${p("gone")}`, "-lgone", "-Wl,-rpath,$ORIGIN/gone"]);
  rmSync(p("gone/libgone.so"));
  gcc(["-static", "-o", p("static"), p("static.c")]);
  gcc(["-static-pie", "-o", p("static-pie"), p("static.c")]);
  gcc([...shared, "-Wl,--no-as-needed", "-o", p("plugins/p1.so"), p("p1.c"), "-lm"]);
  gcc([...shared, "-o", p("plugins/sub/p2.so.1"), p("p2.c")]);
  writeFileSync(p("plugins/notes.so"), "not an ELF file\n");
  writeFileSync(p("plugins/README.txt"), "plugins\n");
  symlinkSync("..", p("plugins/sub/loop"));
  // An AArch64 libfoo.so: the loader must skip it and search on.
  const arm = new Uint8Array(readFileSync(p("lib/libfoo.so")));
  arm[18] = 183;
  writeFileSync(p("arm/libfoo.so"), arm);
  mkdirSync(p("link"));
  symlinkSync(p("prog-rpath"), p("link/prog"));
});

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** What ldd (the real loader) resolves: DT_NEEDED name -> path, undefined when not found; in load order. */
function ldd(file: string, ldLibraryPath?: string[]): Map<string, string | undefined> {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
  delete env.LD_LIBRARY_PATH;
  if (ldLibraryPath !== undefined) env.LD_LIBRARY_PATH = ldLibraryPath.join(":");
  const out = spawnSync("ldd", [file], { encoding: "utf8", env }).stdout;
  const found = new Map<string, string | undefined>();
  for (const line of out.split("\n")) {
    const m = /^\s*(\S+) => (?:(\S+) \(0x[0-9a-f]+\)|(not found))/.exec(line);
    if (m !== null) found.set(m[1]!, m[2]);
    const interp = /^\s*(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (interp !== null) found.set(interp[1]!, interp[1]!);
  }
  return found;
}

/** Library paths (real paths) of a loaded program, in order, without main, vDSO and plugins. */
function libraries(loaded: LoadedProgram, withInterpreter = true): string[] {
  return loaded.objects
    .filter((o) => o.role === "library" || (withInterpreter && o.role === "interpreter"))
    .map((o) => realpathSync(o.path));
}

function lddLibraries(file: string, ldLibraryPath?: string[]): string[] {
  return [...ldd(file, ldLibraryPath).values()].map((path) => (path === undefined ? "not found" : realpathSync(path)));
}

function caught(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected an error");
}

describe("loadProgram: system programs", () => {
  it("/bin/ls: libc.so.6 and ld-linux-x86-64.so.2 at the paths ldd prints, in ldd's order", () => {
    const loaded = loadProgram("/bin/ls");
    expect(loaded.program).toBe("/bin/ls");
    expect(loaded.script).toBeUndefined();
    expect(loaded.objects[0]).toMatchObject({ path: "/bin/ls", role: "main" });
    const byName = (name: string) => loaded.objects.find((o) => o.elf.soname === name);
    expect(byName("libc.so.6")?.role).toBe("library");
    expect(byName("ld-linux-x86-64.so.2")?.role).toBe("interpreter");
    if (!haveTools) return;
    const expected = lddLibraries("/bin/ls");
    expect(expected).toContain(realpathSync("/lib/x86_64-linux-gnu/libc.so.6"));
    // ldd lists the interpreter last (load order); in lookup order it sits where a DT_NEEDED names it.
    expect(new Set(libraries(loaded))).toEqual(new Set(expected));
    expect(libraries(loaded, false)).toEqual(
      expected.filter((x) => x !== realpathSync(byName("ld-linux-x86-64.so.2")!.path)),
    );
  });

  it("the vDSO parses, exports __vdso_clock_gettime, is read once, and follows the libraries", () => {
    const vdso = readVdso();
    expect(vdso).toBeDefined();
    expect(vdso!.path).toBe("[vdso]");
    expect(vdso!.dynamicSymbols.map((s) => s.name)).toContain("__vdso_clock_gettime");
    expect(readVdso()).toBe(vdso);
    const roles = loadProgram("/bin/ls").objects.map((o) => o.role);
    expect(roles.at(-1)).toBe("vdso");
    expect(loadProgram("/bin/ls", { vdso: false }).objects.map((o) => o.role)).not.toContain("vdso");
  });

  it("a bare name is searched in PATH; a missing program is E_NOT_FOUND", () => {
    expect(loadProgram("ls", { searchPath: ["/nonexistent-homeostat", "/bin"] }).program).toBe("/bin/ls");
    expect(caught(() => loadProgram("homeostat-no-such-program", { searchPath: ["/bin"] }))).toMatchObject({
      code: "E_NOT_FOUND",
      location: { file: "homeostat-no-such-program" },
    });
    expect(caught(() => loadProgram("/nonexistent-homeostat/prog")).code).toBe("E_NOT_FOUND");
  });
});

describe.skipIf(!haveTools)("loadProgram: programs compiled here, against ldd", () => {
  it("RPATH and RUNPATH with $ORIGIN: the interpreter sits after libc, whose DT_NEEDED names it", () => {
    for (const prog of ["prog-rpath", "prog-runpath"]) {
      const loaded = loadProgram(p(prog));
      expect(loaded.objects.map((o) => o.role)).toEqual(["main", "library", "library", "interpreter", "vdso"]);
      expect(loaded.objects[1]).toMatchObject({ path: p("lib/libfoo.so"), neededBy: p(prog) });
      expect(loaded.objects[3]!.neededBy).toBe(loaded.objects[2]!.path);
      expect(new Set(libraries(loaded))).toEqual(new Set(lddLibraries(p(prog))));
    }
  });

  it("$ORIGIN of the executable is its real directory (a symlink to it still finds its libraries)", () => {
    const loaded = loadProgram(p("link/prog"));
    expect(loaded.objects[1]!.path).toBe(p("lib/libfoo.so"));
    // ldd disagrees here (it runs ld.so on the path, which takes $ORIGIN from the symlink's folder), so ask the
    // real loader by running the program: it exits with lib/libfoo.so's foo() = 1.
    expect(spawnSync(p("link/prog")).status).toBe(1);
  });

  it("RPATH comes before LD_LIBRARY_PATH, RUNPATH after it; a non-x86-64 candidate is skipped", () => {
    const ldLibraryPath = [p("arm"), p("alt")];
    for (const [prog, winner] of [
      ["prog-rpath", "lib/libfoo.so"],
      ["prog-runpath", "alt/libfoo.so"],
    ] as const) {
      const loaded = loadProgram(p(prog), { ldLibraryPath });
      expect(loaded.objects[1]!.path).toBe(p(winner));
      expect(new Set(libraries(loaded))).toEqual(new Set(lddLibraries(p(prog), ldLibraryPath)));
    }
  });

  it("the executable's RPATH serves its libraries' dependencies too; its RUNPATH does not", () => {
    const loaded = loadProgram(p("bar-rpath"));
    expect(loaded.objects.find((o) => o.path === p("lib/libfoo.so"))?.neededBy).toBe(p("lib/libbar.so"));
    expect(new Set(libraries(loaded))).toEqual(new Set(lddLibraries(p("bar-rpath"))));
    expect(ldd(p("bar-runpath")).get("libfoo.so")).toBeUndefined(); // the real loader fails too
    const err = caught(() => loadProgram(p("bar-runpath")));
    expect(err).toMatchObject({
      code: "E_NOT_FOUND",
      message: `library libfoo.so (needed by ${p("lib/libbar.so")}) not found`,
    });
  });

  it("a missing library is E_NOT_FOUND, one line naming the program, the library and who needs it", () => {
    const err = caught(() => loadProgram(p("prog-gone")));
    expect(err.code).toBe("E_NOT_FOUND");
    expect(err.oneLine()).toBe(`${p("prog-gone")}: library libgone.so (needed by ${p("prog-gone")}) not found`);
  });

  it("static and static-PIE executables: only themselves and the vDSO", () => {
    for (const prog of ["static", "static-pie"]) {
      const loaded = loadProgram(p(prog));
      expect(loaded.objects.map((o) => [o.role, o.path])).toEqual([
        ["main", p(prog)],
        ["vdso", "[vdso]"],
      ]);
    }
  });

  it("plugins: .so files under folders (recursively, past a symlink loop), with their own dependencies", () => {
    const loaded = loadProgram(p("prog-rpath"), { plugins: [p("plugins")] });
    const tail = loaded.objects.slice(loaded.objects.findIndex((o) => o.role === "vdso") + 1);
    expect(tail.map((o) => [o.role, o.path, o.neededBy])).toEqual([
      ["plugin", p("plugins/p1.so"), undefined],
      ["library", "/lib/x86_64-linux-gnu/libm.so.6", p("plugins/p1.so")],
      ["plugin", p("plugins/sub/p2.so.1"), undefined],
    ]);
  });

  it("plugins: a missing path is E_NOT_FOUND; a named file that is not ELF is E_FORMAT", () => {
    expect(caught(() => loadProgram(p("prog-rpath"), { plugins: [p("no-such-plugins")] }))).toMatchObject({
      code: "E_NOT_FOUND",
      location: { file: p("no-such-plugins") },
    });
    expect(caught(() => loadProgram(p("prog-rpath"), { plugins: [p("plugins/notes.so")] }))).toMatchObject({
      code: "E_FORMAT",
      message: "not an ELF file",
    });
    const one = loadProgram(p("prog-rpath"), { plugins: [p("plugins/sub/p2.so.1")], vdso: false });
    expect(one.objects.at(-1)).toMatchObject({ role: "plugin", path: p("plugins/sub/p2.so.1") });
  });
});

describe.skipIf(!haveTools)("loadProgram: scripts", () => {
  it("#!/bin/sh analyses the shell", () => {
    const file = script("hello.sh", "#!/bin/sh\necho hello\n");
    const loaded = loadProgram(file);
    expect(loaded.program).toBe("/bin/sh");
    expect(loaded.script).toEqual({ path: file, interpreter: "/bin/sh" });
    expect(loaded.objects[0]).toMatchObject({ path: "/bin/sh", role: "main" });
  });

  it("#!/usr/bin/env python3 resolves python3 through PATH (also with env -S and options)", () => {
    const plain = script("hello.py", "#!/usr/bin/env python3\nprint('hello')\n");
    const split = script("split.py", "#!/usr/bin/env -S PYTHONDONTWRITEBYTECODE=1 python3 -u\nprint('hello')\n");
    const fromPath = loadProgram(plain);
    expect(fromPath.script?.path).toBe(plain);
    expect(fromPath.objects[0]!.role).toBe("main");
    expect(fromPath.script?.interpreter).toBe(fromPath.program);
    if (!existsSync("/usr/bin/python3")) return;
    for (const file of [plain, split]) {
      expect(loadProgram(file, { searchPath: ["/usr/bin"] })).toMatchObject({
        program: "/usr/bin/python3",
        script: { path: file },
      });
    }
  });

  it("a chain of scripts is followed up to four interpreters deep, no further", () => {
    // s1 -> s2 -> s3 -> s4 -> /bin/sh is four #! hops; s0 adds a fifth.
    script("s4", "#!/bin/sh\n");
    for (let i = 3; i >= 0; i--) script(`s${i}`, `#!${p(`s${i + 1}`)}\n`);
    expect(loadProgram(p("s1"))).toMatchObject({
      program: "/bin/sh",
      script: { path: p("s1"), interpreter: "/bin/sh" },
    });
    expect(caught(() => loadProgram(p("s0")))).toMatchObject({ code: "E_FORMAT", location: { file: p("s0") } });
  });

  it("a missing interpreter is E_NOT_FOUND; a file that is neither ELF nor script is E_FORMAT", () => {
    const missing = script("missing.sh", "#!/nonexistent-homeostat/interp\n");
    expect(caught(() => loadProgram(missing))).toMatchObject({ code: "E_NOT_FOUND", location: { file: missing } });
    const text = script("plain.txt", "just text\n");
    expect(caught(() => loadProgram(text))).toMatchObject({ code: "E_FORMAT", message: "not an ELF file" });
  });
});
