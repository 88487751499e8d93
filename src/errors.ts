// Typed errors with stable codes. Library code throws these; only the CLI turns them into one line on stderr
// and an exit code by the code's class (src/cli/errors.ts: 2 usage or input, 3 environment), so that a user sees
// where the problem is, never a stack.

/** Stable error codes: scripts may match on them, so never rename one. */
export type ErrorCode =
  | "E_USAGE" // bad command-line usage
  | "E_PARSE" // malformed input data at a known file/line/column
  | "E_FORMAT" // input whose format cannot be recognised or is not the one forced
  | "E_IO" // a file could not be read or written (input when it names the file), or a pipe or socket failed
  | "E_NOT_FOUND" // a path, profile or entry that does not exist
  | "E_LIMIT" // an input over a safety limit (line length, decompressed size, entry count)
  | "E_ARCHIVE" // a corrupt or truncated archive (gzip, tar, zip)
  | "E_CHECKSUM" // stored data whose checksum does not match
  | "E_VERSION" // a stored format version this build cannot read
  | "E_VOCAB" // vocabulary overflow or a token that cannot be mapped
  | "E_MODEL" // a model used wrongly (scoring before training, mismatched merge)
  | "E_DEPENDENCY" // a required system tool (strace, cc, bpftrace) or kernel feature (BTF, tracefs) is missing
  | "E_PERMISSION" // the operation is not permitted (ptrace, eBPF, state directory, a read-only output folder)
  | "E_NO_SPACE" // a file system is full or over its quota
  | "E_LOCKED"; // a resource another process holds (the state directory of a running watch)

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  /** A short excerpt of the offending input, already truncated for display. */
  excerpt?: string;
}

export class HomeostatError extends Error {
  readonly code: ErrorCode;
  readonly location: ErrorLocation;

  constructor(code: ErrorCode, message: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HomeostatError";
    this.code = code;
    this.location = location;
  }

  /** One line for a terminal: `file:line:column: message (near "excerpt")`. */
  oneLine(): string {
    const { file, line, column, excerpt } = this.location;
    let where = "";
    if (file !== undefined) {
      where = file;
      if (line !== undefined) where += `:${line}`;
      if (line !== undefined && column !== undefined) where += `:${column}`;
      where += ": ";
    }
    const near = excerpt !== undefined && excerpt.length > 0 ? ` (near ${JSON.stringify(excerpt)})` : "";
    return `${where}${this.message}${near}`;
  }
}

/** A malformed input at a known place. */
export class ParseError extends HomeostatError {
  constructor(message: string, location: ErrorLocation) {
    super("E_PARSE", message, location);
    this.name = "ParseError";
  }
}

export function isHomeostatError(err: unknown): err is HomeostatError {
  return err instanceof HomeostatError;
}

/** Shortens an excerpt of input for an error message; shows control bytes escaped. */
export function excerptOf(text: string, max = 60): string {
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  // eslint-disable-next-line no-control-regex -- control bytes are exactly what must be made visible
  return clipped.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** Builds an excerpt from raw bytes without decoding more than needed. */
export function excerptOfBytes(bytes: Uint8Array, start: number, end: number, max = 60): string {
  const stop = Math.min(end, start + max * 4);
  return excerptOf(
    Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, stop - start)).toString("latin1"),
    max,
  );
}
