// Reading a profile file the user named (score, detect): a missing file is E_NOT_FOUND, an unreadable one E_IO
// naming it, a damaged one whatever decodeProfile finds (E_CHECKSUM, E_VERSION, E_FORMAT...).

import { readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";
import { decodeProfile } from "../models/profile.js";

export function readProfileFile(path: string) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(code === "ENOENT" ? "E_NOT_FOUND" : "E_IO", "cannot read profile", { file: path });
  }
  return decodeProfile(bytes, path);
}
