// The output folder of a scenarios build, in the LID-DS 2021 layout: `<OUT>/<program>/training/<rec>.strace` with
// `<rec>.json` beside it, likewise validation/, test/normal/ and test/normal_and_attack/, and `<OUT>/scenarios.json`.
// The folder must be absent or empty, so that a rebuild never mixes two runs; after a failed build it is left as
// it was found (removed, or emptied of what the build wrote).

import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { Split } from "./types.js";

/** Turns a file-system error on `file` into a HomeostatError with the right code. */
export function fsError(err: unknown, file: string, what: string): HomeostatError {
  const code = (err as NodeJS.ErrnoException).code;
  const message = `${what}: ${(err as Error).message}`;
  if (code === "EACCES" || code === "EPERM" || code === "EROFS")
    return new HomeostatError("E_PERMISSION", message, { file });
  if (code === "ENOSPC" || code === "EDQUOT") return new HomeostatError("E_NO_SPACE", message, { file });
  if (code === "ENOTDIR" || code === "EEXIST") return new HomeostatError("E_USAGE", message, { file });
  return new HomeostatError("E_IO", message, { file }, { cause: err });
}

/** What the build found at OUT_DIR, to put it back after a failure. */
export interface OutDir {
  root: string;
  /** The build created the folder (else it existed, empty). */
  created: boolean;
}

/** Checks OUT_DIR (absent or an empty folder), creates it and checks that it can be written. */
export function openOutDir(root: string): OutDir {
  let created = false;
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw fsError(err, root, "cannot use the output folder");
  }
  if (st !== undefined) {
    if (!st.isDirectory())
      throw new HomeostatError("E_USAGE", "the output path exists and is not a folder", { file: root });
    if (readdirSync(root).length > 0) {
      throw new HomeostatError("E_USAGE", "the output folder is not empty (a build never mixes with another run)", {
        file: root,
      });
    }
  } else {
    try {
      mkdirSync(root, { recursive: true });
      created = true;
    } catch (err) {
      throw fsError(err, root, "cannot create the output folder");
    }
  }
  const probe = path.join(root, `.write-check-${process.pid}`);
  try {
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (err) {
    throw fsError(err, root, "cannot write in the output folder");
  }
  return { root, created };
}

/** Puts OUT_DIR back as the build found it (never throws). */
export function abandonOutDir(out: OutDir): void {
  try {
    if (out.created) rmSync(out.root, { recursive: true, force: true });
    else for (const name of readdirSync(out.root)) rmSync(path.join(out.root, name), { recursive: true, force: true });
  } catch {
    // best effort: the error that failed the build is the one to report
  }
}

/** The .strace and .json paths of a recording, its folder created. */
export function recordingFiles(
  root: string,
  program: string,
  split: Split,
  name: string,
): { trace: string; json: string } {
  const dir = path.join(root, program, ...split.split("/"));
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw fsError(err, dir, "cannot create a split folder");
  }
  return { trace: path.join(dir, `${name}.strace`), json: path.join(dir, `${name}.json`) };
}

/** Writes `value` as indented JSON with a final newline. */
export function writeJson(file: string, value: unknown): void {
  try {
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  } catch (err) {
    throw fsError(err, file, "cannot write");
  }
}
