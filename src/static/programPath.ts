// The executable a program path names, as execve(2) and execvp(3) find it: a name without '/' searched in PATH, and a
// script replaced by the interpreter of its #! line (through `/usr/bin/env NAME` too), at most four deep. Also the
// quiet file probes (stat, first bytes) that the loader's search (programLoader.ts) shares.

import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { basename, join, resolve } from "node:path";
import { HomeostatError } from "../errors.js";

/** The executable analysed, and the script it was reached from, if any (see LoadedProgram). */
export interface ResolvedProgram {
  program: string;
  script?: { path: string; interpreter: string };
}

/** execve follows at most this many #! interpreters before giving up. */
const MAX_SHEBANG_DEPTH = 4;

export function notFound(file: string, message: string): HomeostatError {
  return new HomeostatError("E_NOT_FOUND", message, { file });
}

export function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function isExecutableFile(path: string): boolean {
  if (statOrUndefined(path)?.isFile() !== true) return false;
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` in `dirs`, as execvp searches PATH (an empty entry is the current directory). */
function searchCommand(name: string, dirs: string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir === "" ? "." : dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The first bytes of a file, for #! and ELF identification; undefined when it cannot be read. */
export function head(path: string, length: number): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, 0);
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The text after #! (the kernel reads at most the first 256 bytes), or undefined when not a script. */
function shebangOf(path: string): string | undefined {
  const h = head(path, 256);
  if (h === undefined || h[0] !== 0x23 || h[1] !== 0x21) return undefined;
  const text = Buffer.from(h).toString("utf8", 2);
  const newline = text.indexOf("\n");
  return (newline < 0 ? text : text.slice(0, newline)).trim();
}

/** The program `#!/usr/bin/env [-S] [options] [VAR=value] NAME` runs. */
function envTarget(argument: string, script: string, searchPath: string[]): string {
  let words = argument.split(/[ \t]+/).filter((w) => w !== "");
  if (words[0]?.startsWith("-S") === true) words = [words[0].slice(2), ...words.slice(1)].filter((w) => w !== "");
  let i = 0;
  while (i < words.length && (words[i]!.startsWith("-") || words[i]!.includes("="))) {
    // env's options that take a value as the next word.
    if (["-u", "--unset", "-C", "--chdir"].includes(words[i]!)) i++;
    i++;
  }
  const name = words[i];
  if (name === undefined) throw new HomeostatError("E_FORMAT", "#! line runs env without a program", { file: script });
  if (name.includes("/")) return resolve(name);
  const found = searchCommand(name, searchPath);
  if (found === undefined) throw notFound(script, `interpreter ${name} (from its #! line) not found in PATH`);
  return found;
}

/** The interpreter named by a script's #! line. Like the kernel, the rest of the line is one argument. */
function interpreterOf(line: string, script: string, searchPath: string[]): string {
  const match = /^(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (match === null) throw new HomeostatError("E_FORMAT", "empty #! line", { file: script });
  const interpreter = resolve(match[1]!);
  if (basename(interpreter) === "env") return envTarget(match[2] ?? "", script, searchPath);
  if (!existsSync(interpreter)) throw notFound(script, `interpreter ${match[1]} (from its #! line) not found`);
  return interpreter;
}

/**
 * The executable behind a path. A name without '/' is searched in PATH, as a shell would; a name with '/' is
 * used as given. Scripts are followed through their #! lines, at most four deep as execve allows.
 */
export function resolveProgram(given: string, searchPath: string[]): ResolvedProgram {
  let current = given;
  if (!given.includes("/")) {
    const found = searchCommand(given, searchPath);
    if (found === undefined) throw notFound(given, "program not found in PATH");
    current = found;
  } else if (!existsSync(given)) {
    throw notFound(given, "no such program");
  }
  const scriptPath = current;
  for (let depth = 0; ; depth++) {
    const line = shebangOf(current);
    if (line === undefined) {
      if (depth === 0) return { program: current };
      return { program: current, script: { path: scriptPath, interpreter: current } };
    }
    if (depth >= MAX_SHEBANG_DEPTH) {
      const message = `#! chain deeper than ${MAX_SHEBANG_DEPTH} interpreters`;
      throw new HomeostatError("E_FORMAT", message, { file: scriptPath });
    }
    current = interpreterOf(line, current, searchPath);
  }
}
