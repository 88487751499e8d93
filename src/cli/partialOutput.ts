// Commands that write a file write it as `<out>.partial-<pid>` and rename it at the end, so a failure never leaves
// a half file under the name the user asked for. This is the failure path they share.

import { rmSync } from "node:fs";

/** Closes a writer after a failure (ignoring its own error: the original one is what to report) and removes the partial file. */
export function abandonPartial(writer: { close(): void }, partialPath: string): void {
  try {
    writer.close();
  } catch {
    // the original error is the one to report
  }
  rmSync(partialPath, { force: true });
}
