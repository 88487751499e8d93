// The console's token, read from the file `--token-file` names: a regular file holding 16 characters or more
// without white space (surrounding white space is ignored), readable by its owner only, as ssh insists of a private
// key: a token that group or others may read is no secret, so the file is refused (an environment error) until it
// is chmod 600, rather than served behind a token anyone on the host can copy.

import { readFileSync, statSync } from "node:fs";
import { HomeostatError } from "../errors.js";

export const MIN_TOKEN_LENGTH = 16;

/** The token in `file`; E_NOT_FOUND, E_USAGE (not a file, too short) or E_PERMISSION (unreadable, or not private). */
export function readToken(file: string): string {
  let text: string;
  let mode: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new HomeostatError("E_USAGE", `--token-file must be a regular file`, { file });
    mode = st.mode & 0o777;
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new HomeostatError("E_NOT_FOUND", `no such token file`, { file });
    throw new HomeostatError("E_PERMISSION", `cannot read the token file: ${(err as Error).message}`, { file });
  }
  if (text.length < MIN_TOKEN_LENGTH || /\s/.test(text)) {
    throw new HomeostatError(
      "E_USAGE",
      `the token must be ${MIN_TOKEN_LENGTH} characters or more, without white space`,
      { file },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new HomeostatError(
      "E_PERMISSION",
      `the token file may be read or written by group or others (mode ${mode.toString(8).padStart(4, "0")}): ` +
        `make it private with chmod 600`,
      { file },
    );
  }
  return text;
}
