// Evidence that an attack really happened: the file an injected `id > FILE` wrote, holding `uid=`; the answer
// of a reverse shell; the planted secret (plantSecret) a file-read attack got out. A recording whose attack left no
// evidence is an error, never a silent success (E_IO without a file location: exit 3, a failure of the
// environment, not of the user's input).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";

const UID = /uid=\d+\([^)]*\)/;

/** The `uid=N(name)` an injected `id > file` wrote; E_IO when the file is missing or holds no uid. */
export function proofFile(file: string, attack: string): string {
  const text = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  const m = text === undefined ? null : UID.exec(text);
  if (m === null) {
    throw new HomeostatError("E_IO", `the ${attack} attack did not run its command (no uid in ${file})`);
  }
  return `proof file holds ${m[0]}`;
}

/** The `uid=N(name)` a reverse shell answered; E_IO when there is none. */
export function shellProof(transcript: string, attack: string): string {
  const m = UID.exec(transcript);
  if (m === null) throw new HomeostatError("E_IO", `the ${attack} shell did not answer \`id\``);
  return `reverse shell on 127.0.0.1 answered ${m[0]}`;
}

/** `text` must contain `marker` (a data-only attack that reads a planted secret). */
export function leakProof(text: string, marker: string, attack: string): string {
  if (!text.includes(marker)) {
    throw new HomeostatError("E_IO", `the ${attack} attack did not obtain the planted secret`);
  }
  return `the attacker got the planted secret ${marker}`;
}

/** The planted secret a file-read attack must get out, and the file holding it. */
export const SECRET_MARKER = "HOMEOSTAT-PLANTED-SECRET-7f3a";

/** Writes `<workDir>/secret/credentials.txt` with the marker; returns its path. */
export function plantSecret(workDir: string): string {
  const dir = path.join(workDir, "secret");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "credentials.txt");
  writeFileSync(file, `api_user=deploy\napi_token=${SECRET_MARKER}\n`, { mode: 0o600 });
  return file;
}
