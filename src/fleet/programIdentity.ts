// A program's content identity across the fleet: `b-<GNU build-id>` when its ELF file has one, else `s-<first 32
// hex of the file's sha256>`. Identical binaries on different hosts share it (their profiles can be pooled); a
// replaced binary gets another. Computed once per (path, dev, ino, mtime) and cached; the hash is read
// asynchronously, off the engine's turn, and a file that is no longer the executable the profile was made for
// (another device or inode at that path) has no identity.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parseElfSource } from "../static/elfFile.js";
import { openFileSource } from "../static/fileSource.js";

export interface ExecutableFile {
  path: string;
  /** The device and inode the profile was made for (0 when unknown: not checked). */
  dev: number;
  ino: number;
}

/** The GNU build-id of an ELF file, or undefined (not ELF, not x86-64, no note, unreadable). */
export function elfBuildId(path: string): string | undefined {
  let source: ReturnType<typeof openFileSource> | undefined;
  try {
    source = openFileSource(path);
    const id = parseElfSource(source, path).buildId;
    return id !== undefined && /^[0-9a-f]{2,128}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  } finally {
    source?.close();
  }
}

/** The first 32 hex digits of a file's sha256, read as a stream. */
export async function fileSha256Prefix(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex").slice(0, 32);
}

/** Identities of executables, cached by (path, dev, ino, mtime); at most `maxEntries` kept (oldest dropped). */
export class ProgramIdentities {
  private readonly cache = new Map<string, Promise<string | undefined>>();
  /** Files identified by reading them (cache misses), for tests and the summary. */
  computed = 0;

  constructor(private readonly maxEntries = 4096) {}

  /**
   * The identity of the file at `exe.path`, or undefined when it cannot be read or is not the file `exe` names (a
   * binary replaced since the profile was made). Never rejects.
   */
  async identify(exe: ExecutableFile): Promise<string | undefined> {
    let st;
    try {
      st = await stat(exe.path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    if ((exe.dev !== 0 && st.dev !== exe.dev) || (exe.ino !== 0 && st.ino !== exe.ino)) return undefined;
    const key = `${exe.path}\0${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
    let found = this.cache.get(key);
    if (found === undefined) {
      found = this.compute(exe.path);
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, found);
    }
    return found;
  }

  private async compute(path: string): Promise<string | undefined> {
    this.computed++;
    const id = elfBuildId(path);
    if (id !== undefined) return `b-${id}`;
    try {
      return `s-${await fileSha256Prefix(path)}`;
    } catch {
      return undefined;
    }
  }
}
