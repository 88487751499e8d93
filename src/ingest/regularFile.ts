// Reading one regular file's bytes, fast for the common case (thousands of tiny traces) and safe for the rest: the
// file is opened without blocking and checked to be a regular file on the open descriptor, so that a path swapped
// for a FIFO or a device after the folder walk looked at it is refused rather than read forever or waited on.

import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import type { Readable } from "node:stream";
import { type InputBudget, ioError, specialFileError, specialKind } from "./inputLimits.js";

/** Bytes a regular file is read in at once before the rest is streamed. */
const WHOLE_READ_BYTES = 1024 * 1024;
const STREAM = { highWaterMark: WHOLE_READ_BYTES };
let scratch: Buffer | undefined;

/** Opens `file` for reading; E_FORMAT when it is not a regular file (without ever blocking on it). */
function openRegular(file: string): number {
  return openRegularSized(file).fd;
}

function openRegularSized(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw specialFileError(file, specialKind(st));
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw ioError(file, err, "cannot read input");
  }
}

/** A small file's bytes in a buffer lent to the caller: valid until `release`, which must be called. */
export interface WholeFile {
  bytes: Uint8Array;
  release(): void;
}

/**
 * A regular file of at most WHOLE_READ_BYTES read whole, synchronously, into a reused buffer, or undefined when it
 * is larger (then readRegularFile streams it). The buffer is lent, not copied: the caller parses it before asking
 * for the next file, and a second reader meanwhile (none today) would get a buffer of its own.
 */
export function readWholeRegularFile(file: string, budget: InputBudget): WholeFile | undefined {
  const { fd, size } = openRegularSized(file);
  let buf: Buffer | undefined;
  try {
    if (size >= WHOLE_READ_BYTES) return undefined;
    buf = scratch ?? Buffer.allocUnsafe(WHOLE_READ_BYTES);
    scratch = undefined;
    const n = readUpTo(fd, buf, size);
    // Grown past the buffer since fstat: read it again as a stream.
    if (n === buf.length) return undefined;
    budget.countBytes(n, file);
    const lent = buf;
    buf = undefined;
    return { bytes: lent.subarray(0, n), release: () => void (scratch ??= lent) };
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  } finally {
    if (buf !== undefined) scratch ??= buf;
    closeSync(fd);
  }
}

/** Reads until end of file or a full buffer; a short read at or past fstat's size is the end (no extra read). */
function readUpTo(fd: number, buf: Buffer, size: number): number {
  let n = 0;
  for (;;) {
    const want = buf.length - n;
    const r = readSync(fd, buf, n, want, null);
    n += r;
    if (r === 0 || n === buf.length || (r < want && n >= size)) return n;
  }
}

/**
 * A regular file's bytes, counted against the input budget: read whole, synchronously, through one reused buffer
 * when it is small (ADFA-LD is thousands of tiny files, where stream set-up would cost more than the reading),
 * streamed past WHOLE_READ_BYTES.
 */
export async function* readRegularFile(file: string, budget: InputBudget): AsyncGenerator<Uint8Array> {
  const fd = openRegular(file);
  let streaming = false;
  try {
    const buf = (scratch ??= Buffer.allocUnsafe(WHOLE_READ_BYTES));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0 || (n += r) === buf.length) break;
    }
    budget.countBytes(n, file);
    // A copy: the scratch buffer is reused by the next file while the parser may still hold this chunk.
    yield Buffer.from(buf.subarray(0, n));
    if (n < buf.length) return;
    const rest = createReadStream("", { ...STREAM, fd, start: n, autoClose: true });
    streaming = true;
    yield* budget.counted(streamChunks(rest, file), file);
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  } finally {
    if (!streaming) closeSync(fd);
  }
}

/** A stream of a regular file's bytes (for gunzip and tar), refused like readRegularFile when it is not one. */
export function regularFileStream(file: string): Readable {
  return createReadStream("", { ...STREAM, fd: openRegular(file), autoClose: true });
}

async function* streamChunks(stream: Readable, file: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  } finally {
    stream.destroy();
  }
}
