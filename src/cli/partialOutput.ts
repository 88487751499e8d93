// Commands that write a file write it as `<out>.partial-<pid>` and rename it at the end, so a failure never leaves
// a half file under the name the user asked for, and only a regular file is ever replaced (src/ingest/outputFile.ts:
// a device, FIFO, socket, directory or symbolic link at the output path is refused). These are the failure path of
// streamed output, and the whole path of output written at once (profiles, reports, policies).

import { closeSync, rmSync, writeFileSync } from "node:fs";
import {
  checkOutputPath,
  commitOutput,
  openRegularForWriting,
  outputError,
  partialPathOf,
} from "../ingest/outputFile.js";

export { checkOutputPath, commitOutput, partialPathOf } from "../ingest/outputFile.js";

/** Closes a writer after a failure (ignoring its own error: the original one is what to report) and removes the partial file. */
export function abandonPartial(writer: { close(): void }, partialPath: string): void {
  try {
    writer.close();
  } catch {
    // the original error is the one to report
  }
  rmSync(partialPath, { force: true });
}

/**
 * Writes `data` to `path` through `<path>.partial-<pid>`. Refuses a path that is not (or will not be) a regular
 * file; a failure removes the partial file, leaves `path` as it was, and is a typed error naming `path`
 * (E_USAGE, E_NOT_FOUND, E_PERMISSION, E_NO_SPACE or E_IO).
 */
export function writeAtomically(path: string, data: string | Uint8Array): void {
  checkOutputPath(path);
  const partial = partialPathOf(path);
  const fd = openRegularForWriting(partial, path);
  try {
    writeFileSync(fd, data);
    closeSync(fd);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed, or closing failed too: the write error is the one to report
    }
    rmSync(partial, { force: true });
    throw outputError(err, path);
  }
  commitOutput(partial, path);
}
