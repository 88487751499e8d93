// Commands that write a file write it as `<out>.partial-<pid>` and rename it at the end, so a failure never leaves
// a half file under the name the user asked for. These are the failure path of streamed output, and the whole
// path of output written at once (profiles, reports, policies).

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

/** Closes a writer after a failure (ignoring its own error: the original one is what to report) and removes the partial file. */
export function abandonPartial(writer: { close(): void }, partialPath: string): void {
  try {
    writer.close();
  } catch {
    // the original error is the one to report
  }
  rmSync(partialPath, { force: true });
}

/** Writes `data` to `path` through `<path>.partial-<pid>`; a failure removes the partial file and is E_IO/E_NOT_FOUND naming `path`. */
export function writeAtomically(path: string, data: string | Uint8Array): void {
  const partial = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(partial, data);
    renameSync(partial, path);
  } catch (err) {
    rmSync(partial, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(
      code === "ENOENT" ? "E_NOT_FOUND" : "E_IO",
      `cannot write: ${String(code ?? err)}`,
      {
        file: path,
      },
      { cause: err },
    );
  }
}
