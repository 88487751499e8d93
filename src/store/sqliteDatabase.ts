// Opening a SQLite database through better-sqlite3 with its compiled addon named directly. Left to itself the
// library finds the addon with the `bindings` package, which parses a stack trace and probes a dozen paths on every
// start: a measurable share of a short command such as `profiles list`.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type DatabaseType from "better-sqlite3";

// Required as CommonJS, which it is: the ESM loader would parse each of its files to translate them.
const requireCjs = createRequire(import.meta.url);
const Database = requireCjs("better-sqlite3") as typeof DatabaseType;
type Database = DatabaseType.Database;

let addonPath: string | null | undefined;

/** The addon's path when it is where an npm install builds it, else null (then the library looks for itself). */
function nativeBinding(): string | null {
  if (addonPath !== undefined) return addonPath;
  try {
    const root = path.dirname(requireCjs.resolve("better-sqlite3/package.json"));
    const built = path.join(root, "build", "Release", "better_sqlite3.node");
    addonPath = existsSync(built) ? built : null;
  } catch {
    addonPath = null;
  }
  return addonPath;
}

/** `new Database(file or bytes, options)`, with the addon path filled in. */
export function openSqlite(source: string | Buffer, options: DatabaseType.Options = {}): Database {
  const binding = nativeBinding();
  return new Database(source, binding === null ? options : { ...options, nativeBinding: binding });
}

export type { DatabaseType as Database };
