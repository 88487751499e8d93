// Finding the programs capture runs (strace, bpftrace, mkfifo) the way a shell would, so that a missing one is
// reported before anything starts.

import { accessSync, constants as fsConstants, statSync } from "node:fs";
import path from "node:path";

/** The absolute path of an executable named `name` on PATH (or `name` itself when it has a slash). */
export function findExecutable(name: string, pathVar: string | undefined): string | undefined {
  const usable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) return usable(name) ? path.resolve(name) : undefined;
  for (const dir of (pathVar ?? "").split(":")) {
    if (dir === "") continue;
    const p = path.join(dir, name);
    if (usable(p)) return p;
  }
  return undefined;
}
