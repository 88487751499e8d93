// Where homeostat may write a file a user named (`-o`, `--report`, `--alerts`): only a regular file, new or
// replaced whole. A device, a FIFO, a socket, a directory or a symbolic link at that path is refused (a link is
// refused rather than followed or replaced, so that `-o` never writes somewhere the command line does not say);
// an output is written beside its target as `<out>.partial-<pid>` and renamed over it, which replaces only a
// regular file, so a failure never leaves half a file or a damaged one under the name asked for. The target is
// checked before the work starts (a long run does not fail at its end on a bad path) and again, with lstat, just
// before the rename, since the path may have changed meanwhile. Lives in ingest, the lowest layer that writes
// files (the binary trace writer); the CLI uses it for every output.

import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
} from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";

/** What a file system object that is not a regular file is, in words. */
function kindOf(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isDirectory()) return "a directory";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** The refusal of an output path that holds something other than a regular file (E_USAGE naming it). */
function notRegular(file: string, what: string): HomeostatError {
  const advice =
    what === "a symbolic link"
      ? "outputs are not written through links: name the file itself"
      : what === "a directory"
        ? "name a file to write"
        : "outputs are written only to regular files";
  return new HomeostatError("E_USAGE", `is ${what}: ${advice}`, { file });
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  ENOTDIR: "a component of the path is not a directory",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links in the path",
};

/**
 * A failed write or rename of the output `file` as a typed error naming it: no permission or a read-only file
 * system is E_PERMISSION and a full file system E_NO_SPACE (both exit 3: fix the machine, not the command), a
 * missing folder E_NOT_FOUND, a path that cannot be a file E_USAGE, anything else E_IO.
 */
export function outputError(err: unknown, file: string, doing = "cannot write"): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const why = `${DESCRIPTIONS[code] ?? (err as Error).message ?? String(err)}${code !== "" ? ` (${code})` : ""}`;
  const where = { file };
  const options = { cause: err };
  switch (code) {
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new HomeostatError("E_PERMISSION", `${doing}: ${why}`, where, options);
    case "ENOSPC":
    case "EDQUOT":
      return new HomeostatError("E_NO_SPACE", `${doing}: ${why}`, where, options);
    case "ENOENT":
      return new HomeostatError("E_NOT_FOUND", `${doing}: its folder does not exist`, where, options);
    case "EISDIR":
      return notRegular(file, "a directory");
    case "ENOTDIR":
    case "ENAMETOOLONG":
    case "ELOOP":
      return new HomeostatError("E_USAGE", `${doing}: ${why}`, where, options);
    default:
      return new HomeostatError("E_IO", `${doing}: ${why}`, where, options);
  }
}

/** The lstat of `file`, undefined when nothing is there; other failures are typed errors naming it. */
function lstatOrNothing(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw outputError(err, file);
  }
}

/** Throws unless `file` is nothing yet or a regular file (never a device, FIFO, socket, directory or link). */
function refuseNonRegular(file: string): Stats | undefined {
  const st = lstatOrNothing(file);
  const what = st === undefined ? undefined : kindOf(st);
  if (what !== undefined) throw notRegular(file, what);
  return st;
}

/**
 * Checks that `file` can be written as an output, before any work: nothing or a regular file there, in an existing
 * folder where files can be created. Throws E_USAGE, E_NOT_FOUND or E_PERMISSION naming it.
 */
export function checkOutputPath(file: string): void {
  if (file === "") throw new HomeostatError("E_USAGE", "an output path is empty");
  if (file.endsWith("/")) throw notRegular(file, "a directory");
  const existing = refuseNonRegular(file);
  const dir = path.dirname(file);
  let dirStat: Stats;
  try {
    dirStat = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new HomeostatError("E_NOT_FOUND", `cannot write: folder ${dir} does not exist`, { file });
    }
    throw outputError(err, file);
  }
  if (!dirStat.isDirectory()) throw new HomeostatError("E_USAGE", `cannot write: ${dir} is not a folder`, { file });
  try {
    // Write and search permission on the folder: what creating the partial file and the rename need. access()
    // answers EROFS for a read-only mount and EPERM for an immutable folder even to root.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw outputError(err, file, `cannot create files in ${dir}`);
  }
  if (existing !== undefined) {
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      // EACCES (mode bits) does not stop a rename over the file; EPERM (immutable, append-only) does.
      if ((err as NodeJS.ErrnoException).code !== "EACCES") throw outputError(err, file, "cannot replace it");
    }
  }
}

/** The partial file an output is written to before its rename: beside it, so that the rename stays in one file system. */
export function partialPathOf(file: string): string {
  return `${file}.partial-${process.pid}`;
}

/**
 * Opens `file` to be written from its start, creating it (mode 0666 less the umask) or truncating it only when it
 * is a regular file with no other link: never through a symbolic link, and never a FIFO (O_NONBLOCK: the open does
 * not wait for a reader) or device. Throws a typed error naming `label` (the output the user named).
 */
export function openRegularForWriting(file: string, label = file): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o666);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw notRegular(file, "a symbolic link");
    throw outputError(err, label, "cannot create the output");
  }
  try {
    const st = fstatSync(fd);
    const what = kindOf(st);
    if (what !== undefined) throw notRegular(file, what);
    // A hard link would make the truncation damage another name's file.
    if (st.nlink > 1) throw new HomeostatError("E_USAGE", "has other hard links: refusing to overwrite it", { file });
    ftruncateSync(fd, 0);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw outputError(err, label);
  }
}

/**
 * Opens the output `file` to append to (a log such as watch's alerts): created when missing, and only ever a
 * regular file. Throws a typed error naming it.
 */
export function openRegularForAppending(file: string): number {
  checkOutputPath(file);
  let fd: number;
  try {
    fd = openSync(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      0o666,
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw notRegular(file, "a symbolic link");
    throw outputError(err, file, "cannot open it to append");
  }
  const what = kindOf(fstatSync(fd));
  if (what !== undefined) {
    closeSync(fd);
    throw notRegular(file, what);
  }
  return fd;
}

/**
 * Renames the finished `partial` file over `file`, after checking again that `file` is nothing or a regular file
 * (it may have changed since the work started). On any failure the partial file is removed and `file` is left as
 * it was; the error names `file`.
 */
export function commitOutput(partial: string, file: string): void {
  try {
    refuseNonRegular(file);
    renameSync(partial, file);
  } catch (err) {
    rmSync(partial, { force: true });
    throw outputError(err, file);
  }
}
