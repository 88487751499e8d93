// The safety limits of input enumeration, the budget that enforces them over all inputs of one run, and the typed
// errors of reading inputs. Hostile or mistaken input (a decompression bomb, an endless /proc file, a device) must
// end in one error line naming the file, never in memory or time without bound.

import type { Stats } from "node:fs";
import { HomeostatError } from "../errors.js";

export interface InputLimits {
  /** Largest decompressed size of one entry (default 8 GiB). */
  maxEntryBytes: number;
  /** Largest decompressed/compressed ratio once past `ratioCheckBytes` (default 1000: zip-bomb defence). */
  maxRatio: number;
  /** Decompressed bytes after which the ratio is enforced (default 64 MiB). */
  ratioCheckBytes: number;
  /** Most entries read from all inputs (default 10 million). */
  maxEntries: number;
  /** Largest nested archive (a zip inside a tar, say) buffered in memory (default 512 MiB). */
  maxNestedBytes: number;
  /**
   * Most bytes read from all inputs together, counted after decompression (default 64 GiB). It bounds inputs that
   * never end but look like regular files (some /proc files), which no per-entry limit applies to.
   */
  maxInputBytes: number;
}

export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 ** 3;

export const DEFAULT_LIMITS: InputLimits = {
  maxEntryBytes: 8 * 1024 ** 3,
  maxRatio: 1000,
  ratioCheckBytes: 64 * 1024 ** 2,
  maxEntries: 10_000_000,
  maxNestedBytes: 512 * 1024 ** 2,
  maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
};

/** Entries and bytes read so far from all inputs of one enumeration, checked against the limits. */
export class InputBudget {
  entries = 0;
  bytes = 0;

  constructor(readonly limits: InputLimits) {}

  countEntry(path: string): void {
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw new HomeostatError("E_LIMIT", `more than ${this.limits.maxEntries} input entries`, { file: path });
    }
  }

  /** Counts `n` more bytes read from `path`; E_LIMIT once all inputs together pass maxInputBytes. */
  countBytes(n: number, path: string): void {
    this.bytes += n;
    if (this.bytes > this.limits.maxInputBytes) {
      throw new HomeostatError(
        "E_LIMIT",
        `input passes ${this.limits.maxInputBytes} bytes in all (decompressed; raise the limit with --max-input-bytes)`,
        { file: path },
      );
    }
  }

  /** The chunks of `source`, counted as bytes of `path`. */
  async *counted(source: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      this.countBytes(chunk.length, path);
      yield chunk;
    }
  }
}

/** Passes chunks through, failing once more than maxEntryBytes or a bomb-like ratio has come out. */
export async function* bounded(
  source: AsyncIterable<Uint8Array>,
  path: string,
  compressedSize: number | undefined,
  limits: InputLimits,
  wrap: (err: unknown) => HomeostatError,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > limits.maxEntryBytes) {
        throw new HomeostatError("E_LIMIT", `decompresses to more than ${limits.maxEntryBytes} bytes`, { file: path });
      }
      if (compressedSize !== undefined && total > limits.ratioCheckBytes && total > compressedSize * limits.maxRatio) {
        throw new HomeostatError(
          "E_LIMIT",
          `decompresses more than ${limits.maxRatio} times its compressed size: refusing a likely decompression bomb`,
          { file: path },
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    throw wrap(err);
  }
}

/** What kind of file a non-regular, non-folder path is, in words. */
export function specialKind(st: Pick<Stats, "isCharacterDevice" | "isBlockDevice" | "isFIFO" | "isSocket">): string {
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * A device, FIFO or socket given (or found) as a trace: refused before it is opened, since such a file may never
 * end (/dev/zero, a FIFO whose writer keeps writing) or block forever. E_FORMAT: it is an input of a kind homeostat
 * does not read, the user's to fix.
 */
export function specialFileError(path: string, kind: string): HomeostatError {
  return new HomeostatError(
    "E_FORMAT",
    `${kind}, not a trace file: homeostat reads regular files, folders and archives`,
    { file: path },
  );
}

export function archiveError(path: string, err: unknown, what: string): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new HomeostatError("E_ARCHIVE", `${what}: ${detail}`, { file: path }, { cause: err });
}

export function ioError(path: string, err: unknown, what: string): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new HomeostatError("E_NOT_FOUND", "no such file or folder", { file: path });
  if (code === "EACCES" || code === "EPERM") {
    return new HomeostatError("E_PERMISSION", `${what}: permission denied`, { file: path });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new HomeostatError("E_IO", `${what}: ${detail}`, { file: path }, { cause: err });
}
