// A file read in pieces (what elfFile.ts parses): a loader needs a few pages of each library (headers, the dynamic
// section, the build-id) and, when the library's summary is cached, nothing else, so reading whole files of
// megabytes would be most of a warm analysis's input. The file is opened once for those pieces and closed; a later
// read opens it again and refuses (E_IO) a file that is no longer the one first read (device, inode, size, mtime,
// ctime), so that pieces of two different files are never put together.

import { closeSync, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { HomeostatError } from "../errors.js";

/** Where a file's bytes come from when they are not all in memory: a range of it, or the whole of it. */
export interface ByteSource {
  /** The file's size. */
  length: number;
  /** Bytes [at, at + length), which lie inside the file. */
  range(at: number, length: number): Uint8Array;
  /** Every byte, as `length` said. */
  all(): Uint8Array;
}

export interface FileSource extends ByteSource {
  /** Closes the file until the next read. */
  close(): void;
}

function readError(path: string, err: unknown): HomeostatError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new HomeostatError("E_NOT_FOUND", "no such file", { file: path }, { cause: err });
  const why = code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
  return new HomeostatError("E_IO", `cannot read: ${why}`, { file: path }, { cause: err });
}

const sameFile = (a: Stats, b: Stats): boolean =>
  a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** Opens a file for reading in pieces: E_NOT_FOUND when it does not exist, E_IO when it cannot be read. */
export function openFileSource(path: string): FileSource {
  let fd: number | undefined;
  let first: Stats;
  try {
    fd = openSync(path, "r");
    first = fstatSync(fd);
    if (first.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw readError(path, err);
  }
  const changed = (): HomeostatError =>
    new HomeostatError("E_IO", "the file changed while it was being analysed", { file: path });
  const handle = (): number => {
    if (fd !== undefined) return fd;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw changed();
      throw readError(path, err);
    }
    if (!sameFile(fstatSync(fd), first)) {
      closeSync(fd);
      fd = undefined;
      throw changed();
    }
    return fd;
  };
  const range = (at: number, length: number): Uint8Array => {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const n = readSync(handle(), out, done, length - done, at + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      if (err instanceof HomeostatError) throw err;
      throw readError(path, err);
    }
    if (done < length) throw changed();
    return new Uint8Array(out.buffer, out.byteOffset, length);
  };
  return {
    length: first.size,
    range,
    all() {
      try {
        return range(0, first.size);
      } finally {
        this.close();
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
