// The programs a scenario runs, looked up on a fixed system PATH (not the user's: a pyenv or nvm shim in front of
// /usr/bin would change what is recorded), their versions for LID-DS's `image` field, and the clean environment
// every recording runs in (same variables on every machine, HOME in the recording's scratch folder).

import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { findExecutable } from "../capture/executables.js";

export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The tool's path on the system PATH, or undefined. */
export function toolPath(name: string): string | undefined {
  return findExecutable(name, SYSTEM_PATH);
}

/** Why a scenario cannot run here (the first missing tool), or undefined. */
export function missingTools(names: readonly string[]): string | undefined {
  const missing = names.filter((n) => toolPath(n) === undefined);
  if (missing.length === 0) return undefined;
  return `${missing.join(", ")} not installed (Debian: apt-get install ${missing.join(" ")})`;
}

const versions = new Map<string, string>();

/** The first match of `pattern` (its group 1) in what `command args` prints, cached; "unknown" when none. */
export function toolVersion(command: string, args: readonly string[], pattern: RegExp): string {
  const key = [command, ...args].join(" ");
  let v = versions.get(key);
  if (v === undefined) {
    const r = spawnSync(command, args, { encoding: "utf8", env: cleanEnv("/") });
    v = pattern.exec(`${r.stdout ?? ""}\n${r.stderr ?? ""}`)?.[1] ?? "unknown";
    versions.set(key, v);
  }
  return v;
}

/** The environment of every recorded program: fixed PATH and locale, HOME at `home`, plus `extra`. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: SYSTEM_PATH, HOME: home, LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TZ: "UTC", ...extra };
}

/** nobody's uid and gid when homeostat runs as root (servers drop to it), else undefined. */
export function dropUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("nobody:"));
  const f = line?.split(":");
  return f === undefined ? { uid: 65534, gid: 65534 } : { uid: Number(f[2]), gid: Number(f[3]) };
}

/** Gives `dir` and everything in it to the user servers drop to (a web root owned by its server's user). */
export function giveToServerUser(dir: string): void {
  const user = dropUser();
  if (user === undefined) return;
  const walk = (p: string): void => {
    chownSync(p, user.uid, user.gid);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

/** A folder anyone may write in (an attack's output as the server's user), sticky as /tmp. */
export function sharedTmp(parent: string): string {
  const dir = path.join(parent, "tmp");
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  return dir;
}
