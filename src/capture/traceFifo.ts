// The FIFO strace writes its trace into (`-o FIFO`), in a private directory: the traced program's stdio stays
// homeostat's own, and strace opens an -o file close-on-exec, so no pipe fd leaks into the program. We hold a write
// end ourselves until strace has exited, so the reader sees EOF only after everything strace wrote.

import { execFileSync } from "node:child_process";
import { closeSync, constants as fsConstants, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import { findExecutable } from "./executables.js";

export interface TraceFifo {
  /** The private directory holding the FIFO (removed with it). */
  dir: string;
  path: string;
  /** Our read end, non-blocking. */
  readFd: number;
  /** The write end we hold until strace has exited. */
  holdFd: number;
}

/** Creates the FIFO and opens both ends; E_DEPENDENCY without mkfifo, E_IO when it cannot be made. */
export function createTraceFifo(env: NodeJS.ProcessEnv): TraceFifo {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-record-"));
  const fifo = path.join(dir, "strace.fifo");
  let readFd = -1;
  let holdFd = -1;
  try {
    const mkfifo = findExecutable("mkfifo", env.PATH) ?? findExecutable("mkfifo", "/usr/bin:/bin");
    if (mkfifo === undefined) throw new HomeostatError("E_DEPENDENCY", "mkfifo (coreutils) is not installed");
    execFileSync(mkfifo, ["-m", "600", fifo], { stdio: "ignore" });
    readFd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    holdFd = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (readFd >= 0) closeSync(readFd);
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof HomeostatError) throw err;
    throw new HomeostatError("E_IO", `cannot create the trace FIFO: ${(err as Error).message}`, {}, { cause: err });
  }
  return { dir, path: fifo, readFd, holdFd };
}

/** Removes the FIFO's directory (its fds are closed by their owners). */
export function removeTraceFifo(fifo: TraceFifo): void {
  rmSync(fifo.dir, { recursive: true, force: true });
}
