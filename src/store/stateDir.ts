// The state directory of `homeostat watch`: where it is by default (the XDG base directory rules), and making it
// for a writer, private (mode 0700: alerts carry command lines and paths of the watched host) and writable, with a
// refusal that says why not.

import { accessSync, constants, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { HomeostatError } from "../errors.js";

/** `$XDG_STATE_HOME/homeostat`, else `~/.local/state/homeostat` (the XDG base directory rules). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative paths in these variables are invalid and must be ignored.
  if (xdg !== undefined && xdg !== "" && path.isAbsolute(xdg)) return path.join(xdg, "homeostat");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return path.join(home, ".local", "state", "homeostat");
}

export const DEFAULT_STATE_DIR: string = defaultStateDir();

/** Creates the state directory (mode 0700) when needed and checks that this process can write in it. */
export function prepareStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOTDIR" || code === "EEXIST"
        ? "a part of the path is a file, not a directory"
        : code === "EROFS"
          ? "the filesystem is read-only"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : (err as Error).message;
    throw new HomeostatError(
      "E_PERMISSION",
      `cannot create the state directory: ${why}`,
      { file: dir },
      {
        cause: err,
      },
    );
  }
  try {
    // mkdir succeeds on an existing directory we cannot write; find out now, not at the first save.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new HomeostatError(
      "E_PERMISSION",
      `cannot write in the state directory: permission denied`,
      { file: dir },
      {
        cause: err,
      },
    );
  }
}
