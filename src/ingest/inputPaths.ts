// A check of the paths a user names, before anything heavy is loaded: a device, FIFO or socket named as input is
// refused at once (the folder walk refuses those it meets inside folders). Light: commands call it before they load
// their actions, so it imports no parser and no archive library.

import { type Stats, statSync } from "node:fs";
import { ioError, specialFileError, specialKind } from "./inputLimits.js";

/** Throws the error listInputs would for the first named path that is missing, unreadable or not a file or folder. */
export function checkNamedInputs(paths: readonly string[]): void {
  for (const p of paths) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch (err) {
      throw ioError(p, err, "cannot read input");
    }
    if (!st.isFile() && !st.isDirectory()) throw specialFileError(p, specialKind(st));
  }
}
