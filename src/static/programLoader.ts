// Finds the objects a program runs with, as the dynamic loader would: the executable (after following #! lines
// as execve does, in programPath.ts), its DT_NEEDED libraries breadth-first, the interpreter, the vDSO and any
// plugins named by the user. Follows ld.so(8) and glibc's elf/dl-load.c for the search order and
// $ORIGIN/$LIB/$PLATFORM expansion.

import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  type Stats,
} from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { HomeostatError } from "../errors.js";
import { parseElf, parseElfFully, readElfFile, type ElfFile } from "./elfFile.js";
import { readLdCache } from "./ldCache.js";
import { head, notFound, resolveProgram, statOrUndefined } from "./programPath.js";
import type { ObjectRole } from "./staticModel.js";

export type { ObjectRole } from "./staticModel.js";

export interface LoadedObject {
  path: string;
  role: ObjectRole;
  elf: ElfFile;
  /** The path of the object whose DT_NEEDED brought this one in. */
  neededBy?: string;
}

export interface LoadedProgram {
  /** The executable analysed (the final interpreter when the path given was a script). */
  program: string;
  script?: { path: string; interpreter: string };
  /**
   * In symbol-lookup order: the executable, its DT_NEEDED breadth-first (each object once), the interpreter where
   * a DT_NEEDED names it (else appended), the vDSO, then each plugin followed by its new dependencies.
   */
  objects: LoadedObject[];
}

export interface LoadOptions {
  /** Directories (searched recursively) or files of .so plugins, loaded with role "plugin". */
  plugins?: string[];
  /** Include the vDSO (default true): the kernel maps it into every process. */
  vdso?: boolean;
  /** LD_LIBRARY_PATH directories; never taken from the environment implicitly. */
  ldLibraryPath?: string[];
  ldCachePath?: string;
  /** Directories searched for a bare program name and for `#!/usr/bin/env NAME` (default: $PATH). */
  searchPath?: string[];
  /** Objects already parsed, by path (a second load of the same program with more plugins). */
  elfCache?: Map<string, ElfFile>;
}

/** Parses the ELF file at path, once per cache. */
function cachedElf(options: LoadOptions, path: string): ElfFile {
  const known = options.elfCache?.get(path);
  if (known !== undefined) return known;
  const elf = readElfFile(path);
  options.elfCache?.set(path, elf);
  return elf;
}

const DEFAULT_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"];

/** Whether a file starts like an ELF64 little-endian x86-64 object (the loader skips others and searches on). */
function isElf64X86(path: string): boolean {
  const h = head(path, 20);
  return (
    h !== undefined &&
    h.length === 20 &&
    h[0] === 0x7f &&
    h[1] === 0x45 &&
    h[2] === 0x4c &&
    h[3] === 0x46 &&
    h[4] === 2 &&
    h[5] === 1 &&
    h[18] === 62 &&
    h[19] === 0
  );
}

let vdsoCache: { elf: ElfFile | undefined } | undefined;

/** This process's vDSO image, parsed with path "[vdso]"; undefined where /proc does not expose it. Cached. */
export function readVdso(): ElfFile | undefined {
  if (vdsoCache === undefined) vdsoCache = { elf: readVdsoUncached() };
  return vdsoCache.elf;
}

function readVdsoUncached(): ElfFile | undefined {
  let fd: number | undefined;
  try {
    const maps = readFileSync("/proc/self/maps", "utf8");
    const m = /^([0-9a-f]+)-([0-9a-f]+) .*\[vdso\]$/m.exec(maps);
    if (m === null) return undefined;
    const start = parseInt(m[1]!, 16);
    const length = parseInt(m[2]!, 16) - start;
    if (!(length > 0 && length <= 1 << 24)) return undefined;
    const bytes = Buffer.alloc(length);
    fd = openSync("/proc/self/mem", "r");
    if (readSync(fd, bytes, 0, length, start) !== length) return undefined;
    // Parsed in full here: a vDSO this parser cannot read is left out, rather than failing a later analysis.
    return parseElfFully(parseElf(new Uint8Array(bytes.buffer, bytes.byteOffset, length), "[vdso]"));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The value of $LIB: Debian's multiarch glibc uses lib/x86_64-linux-gnu, others lib64. */
function dstLib(): string {
  return existsSync("/lib/x86_64-linux-gnu") ? "lib/x86_64-linux-gnu" : "lib64";
}

/** Expands $ORIGIN, $LIB and $PLATFORM (bare or braced, per ld.so(8)); other $ words are left as they are. */
function expandDst(entry: string, origin: string): string {
  return entry.replace(/\$\{(ORIGIN|LIB|PLATFORM)\}|\$(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_])/g, (_all, braced, bare) => {
    const name = (braced ?? bare) as string;
    return name === "ORIGIN" ? origin : name === "LIB" ? dstLib() : "x86_64";
  });
}

function isSharedObjectName(name: string): boolean {
  return name.endsWith(".so") || name.includes(".so.");
}

/** Walks plugin paths: explicit files, and every .so file under directories (following no symlink loop). */
function pluginFiles(paths: string[]): { path: string; explicit: boolean }[] {
  const out: { path: string; explicit: boolean }[] = [];
  const visited = new Set<string>();
  const walk = (dir: string, st: Stats): void => {
    const id = `${st.dev}:${st.ino}`;
    if (visited.has(id)) return;
    visited.add(id);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      const message = `cannot list plugin folder: ${(err as Error).message}`;
      throw new HomeostatError("E_IO", message, { file: dir }, { cause: err });
    }
    for (const name of names) {
      const full = join(dir, name);
      const entry = statOrUndefined(full); // follows symlinks; a dangling one is skipped
      if (entry?.isDirectory() === true) walk(full, entry);
      else if (entry?.isFile() === true && isSharedObjectName(name)) out.push({ path: full, explicit: false });
    }
  };
  for (const p of paths) {
    const st = statOrUndefined(p);
    if (st === undefined) throw notFound(p, "plugin path not found");
    if (st.isDirectory()) walk(p, st);
    else out.push({ path: p, explicit: true });
  }
  return out;
}

class Loader {
  readonly objects: LoadedObject[] = [];
  private readonly byName = new Map<string, LoadedObject>();
  private readonly byFile = new Map<string, LoadedObject>();
  /** The object that requested each one: its RPATH chain runs through these up to the executable. */
  private readonly requester = new Map<LoadedObject, LoadedObject>();
  private pendingInterpreter: LoadedObject | undefined;
  private cache: Map<string, string> | undefined;
  private readonly mainOrigin: string;

  constructor(
    private readonly program: string,
    private readonly main: LoadedObject,
    private readonly options: LoadOptions,
  ) {
    // ld.so takes the executable's $ORIGIN from /proc/self/exe, which has symlinks resolved.
    this.mainOrigin = dirname(realpathSync(program));
    this.add(main);
  }

  private fileId(path: string): string | undefined {
    const st = statOrUndefined(path);
    return st === undefined ? undefined : `${st.dev}:${st.ino}`;
  }

  private register(obj: LoadedObject, ...names: (string | undefined)[]): void {
    for (const n of [obj.path, obj.elf.soname, ...names]) {
      if (n !== undefined && !this.byName.has(n)) this.byName.set(n, obj);
    }
    const id = obj.role === "vdso" ? undefined : this.fileId(obj.path);
    if (id !== undefined && !this.byFile.has(id)) this.byFile.set(id, obj);
  }

  add(obj: LoadedObject, ...names: string[]): void {
    this.objects.push(obj);
    this.register(obj, ...names);
  }

  /** Reads PT_INTERP now, so that a DT_NEEDED naming it (libc's) places it in the search order. */
  setInterpreter(path: string): void {
    let elf: ElfFile;
    try {
      elf = cachedElf(this.options, path);
    } catch (err) {
      if (err instanceof HomeostatError && err.code === "E_NOT_FOUND") {
        throw notFound(this.program, `interpreter ${path} (PT_INTERP of ${this.main.path}) not found`);
      }
      throw err;
    }
    this.pendingInterpreter = { path, role: "interpreter", elf };
    this.register(this.pendingInterpreter);
  }

  /** Appends the interpreter when no DT_NEEDED named it. */
  placeInterpreter(): void {
    if (this.pendingInterpreter !== undefined) this.add(this.pendingInterpreter);
    this.pendingInterpreter = undefined;
  }

  /** Loads the DT_NEEDED of objects[from..] and of everything they bring in, breadth-first. */
  loadDependencies(from: number): void {
    for (let i = from; i < this.objects.length; i++) {
      const obj = this.objects[i]!;
      for (const name of obj.elf.needed) this.need(name, obj);
    }
  }

  private need(name: string, by: LoadedObject): void {
    const known = this.byName.get(name);
    if (known !== undefined) return this.placeIfInterpreter(known, by);
    const found = this.search(name, by);
    if (found === undefined) {
      throw notFound(this.program, `library ${name} (needed by ${by.path}) not found`);
    }
    const same = this.byFile.get(this.fileId(found.path) ?? "");
    if (same !== undefined) {
      this.byName.set(name, same);
      return this.placeIfInterpreter(same, by);
    }
    const obj: LoadedObject = { path: found.path, role: "library", elf: found.elf, neededBy: by.path };
    this.requester.set(obj, by);
    this.add(obj, name);
  }

  private placeIfInterpreter(obj: LoadedObject, by: LoadedObject): void {
    if (obj !== this.pendingInterpreter) return;
    obj.neededBy = by.path;
    this.requester.set(obj, by);
    this.placeInterpreter();
  }

  private search(name: string, by: LoadedObject): { path: string; elf: ElfFile } | undefined {
    if (name.includes("/")) return this.candidate(resolve(expandDst(name, this.origin(by))));
    for (const dir of this.directories(by)) {
      const found = this.candidate(join(dir === "" ? "." : dir, name));
      if (found !== undefined) return found;
    }
    this.cache ??= readLdCache(this.options.ldCachePath);
    const cached = this.cache.get(name);
    const fromCache = cached === undefined ? undefined : this.candidate(cached);
    if (fromCache !== undefined) return fromCache;
    for (const dir of DEFAULT_DIRS) {
      const found = this.candidate(join(dir, name));
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * RPATH (of the requester and its requesters up to the executable, unless the requester has RUNPATH), then
   * LD_LIBRARY_PATH, then the requester's RUNPATH. An object with RUNPATH contributes no RPATH.
   */
  private *directories(by: LoadedObject): Iterable<string> {
    if (by.elf.runpath.length === 0) {
      let sawMain = false;
      for (let o: LoadedObject | undefined = by; o !== undefined; o = this.requester.get(o)) {
        if (o.elf.runpath.length === 0) yield* o.elf.rpath.map((d) => expandDst(d, this.origin(o!)));
        sawMain ||= o === this.main;
      }
      // glibc also searches the executable's RPATH for every object, plugins included.
      if (!sawMain && this.main.elf.runpath.length === 0) {
        yield* this.main.elf.rpath.map((d) => expandDst(d, this.mainOrigin));
      }
    }
    yield* (this.options.ldLibraryPath ?? []).map((d) => expandDst(d, this.mainOrigin));
    yield* by.elf.runpath.map((d) => expandDst(d, this.origin(by)));
  }

  /** $ORIGIN: the directory of the path the object was loaded from (the executable's with symlinks resolved). */
  private origin(obj: LoadedObject): string {
    return obj === this.main ? this.mainOrigin : dirname(resolve(obj.path));
  }

  /** A file that the loader would take: an ELF64 x86-64 object; others are skipped and the search goes on. */
  private candidate(path: string): { path: string; elf: ElfFile } | undefined {
    if (statOrUndefined(path)?.isFile() !== true || !isElf64X86(path)) return undefined;
    const same = this.byFile.get(this.fileId(path) ?? "");
    return { path, elf: same?.elf ?? cachedElf(this.options, path) };
  }

  /** Adds a plugin (unless already loaded) and its dependencies. */
  addPlugin(path: string, explicit: boolean): void {
    if (!explicit && !isElf64X86(path)) return;
    if (this.byFile.has(this.fileId(path) ?? "")) return;
    const elf = cachedElf(this.options, path);
    if (elf.kind !== "dyn") {
      if (!explicit) return;
      throw new HomeostatError("E_FORMAT", "plugin is not a shared object (ET_DYN)", { file: path });
    }
    const obj: LoadedObject = { path, role: "plugin", elf };
    // A plugin is dlopen'ed by the program: its own RPATH comes first, then the executable's.
    this.requester.set(obj, this.main);
    const index = this.objects.length;
    this.add(obj);
    this.loadDependencies(index);
  }
}

/**
 * Resolves a program's objects as ld.so would. `path` without '/' is searched in PATH (options.searchPath);
 * with '/', it is used as given. A script is replaced by its #! interpreter (recorded in `script`).
 * Statically linked executables and static PIEs (no PT_INTERP) get only the vDSO and plugins besides themselves.
 */
export function loadProgram(path: string, options: LoadOptions = {}): LoadedProgram {
  const searchPath = options.searchPath ?? (process.env.PATH ?? "").split(delimiter);
  const { program, script } = resolveProgram(path, searchPath);
  const main: LoadedObject = { path: program, role: "main", elf: cachedElf(options, program) };
  const loader = new Loader(program, main, options);
  if (main.elf.interp !== undefined) {
    loader.setInterpreter(main.elf.interp);
    loader.loadDependencies(0);
    loader.placeInterpreter();
  }
  if (options.vdso !== false) {
    const vdso = readVdso();
    if (vdso !== undefined) loader.add({ path: "[vdso]", role: "vdso", elf: vdso });
  }
  for (const plugin of pluginFiles(options.plugins ?? [])) loader.addPlugin(plugin.path, plugin.explicit);
  return script === undefined ? { program, objects: loader.objects } : { program, script, objects: loader.objects };
}
