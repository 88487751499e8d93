// homeostat's own binary trace format ("homeostat", spec in docs/binary-trace-format.md): its TraceFormat and the
// functions that read a whole file or buffer into a sink. The format is spread over one file per part: its layout
// and integer codecs (binaryTraceLayout.ts), the framing into checked blocks (binaryBlockFramer.ts), the blocks'
// meaning (binaryTraceReader.ts), the EVENTS columns (binaryColumnDecoder.ts, binaryColumnEncoder.ts), the SOURCE
// payload (binarySourceInfo.ts) and the writer (binaryTraceWriter.ts).
//
// A file is a 16-byte header (magic "HOMEOSTT", version, flags, CRC-32) followed by self-delimiting blocks
// `type u8, length u32 LE, payload, crc32 u32 LE of (type, length, payload)`. Calls travel in columnar EVENTS
// blocks (run-length streams, u8/u16 syscall ids, scaled-integer zigzag-varint or raw f64 times and returns), so
// decoding is a few tight loops over bytes into reused typed arrays. Every block stands alone, so a file cut off
// after any block (a live `record` killed with Ctrl-C) still reads up to that block; the END trailer's totals tell
// a complete file from a cut one and catch a block that went missing.
//
// Of the common ParserOptions this parser uses file, vocab, sink, lenient (a trailing partial block is then
// ignored, reported through onSkip and `truncatedAt`, instead of failing) and keepArgs; maxLineBytes and
// defaultStream do not apply. A bad checksum is an error in both modes: only a cut-off tail is forgiven.
// `readBinaryTrace` and `readBinaryTraceFile` bracket the embedded sources (see binaryTraceReader.ts), so a file
// written from a sink reads back into a sink with the same calls.

import { createReadStream } from "node:fs";
import { HomeostatError } from "../errors.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink } from "./event.js";
import type { ParserOptions, TraceFormat } from "./format.js";
import { hasBinaryTraceMagic } from "./formatHints.js";
import {
  type BinaryParserOptions,
  type BinaryReadSummary,
  type BinaryTraceParser,
  BinaryTraceReader,
} from "./binaryTraceReader.js";

export {
  BINARY_TRACE_MAGIC,
  BINARY_TRACE_VERSION,
  BLOCK_HEAD_BYTES,
  BLOCK_OVERHEAD_BYTES,
  BlockType,
  blockName,
  F64Mode,
  FIRST_SKIPPABLE_BLOCK,
  HEADER_BYTES,
  HOST_LITTLE_ENDIAN,
  MAX_BLOCK_PAYLOAD,
  NOTE_KINDS,
  POW10,
  SCALED_LIMIT,
  writeVarint,
  zigzag,
} from "./binaryTraceLayout.js";
export type { BinaryParserOptions, BinaryReadSummary, BinaryTraceParser } from "./binaryTraceReader.js";

/** A parser of the binary format with access to its embedded sources and completeness. */
export function createBinaryTraceParser(options: BinaryParserOptions): BinaryTraceParser {
  return new BinaryTraceReader(options);
}

export const binaryTraceFormat: TraceFormat = {
  name: "homeostat",
  description: "homeostat's compact binary trace format (columnar, checksummed blocks)",
  sniff(head: Uint8Array): number {
    return hasBinaryTraceMagic(head) ? 1 : 0;
  },
  createParser(options: ParserOptions): BinaryTraceParser {
    return new BinaryTraceReader(options);
  },
};

export interface ReadBinaryOptions {
  lenient?: boolean;
  keepArgs?: boolean;
  /** Display path for errors (defaults to the path read). */
  file?: string;
}

function summary(p: BinaryTraceParser): BinaryReadSummary {
  return {
    complete: p.complete,
    truncatedAt: p.truncatedAt,
    calls: p.calls,
    notes: p.notes,
    sources: p.sources,
  };
}

/**
 * Reads whole bytes of a binary trace into a sink, calling sink.beginSource/endSource for each embedded source
 * (a default source for events outside any).
 */
export function readBinaryTrace(
  bytes: Uint8Array,
  vocab: Vocabulary,
  sink: EventSink,
  options: ReadBinaryOptions = {},
): BinaryReadSummary {
  const parser = createBinaryTraceParser({
    file: options.file ?? "<bytes>",
    vocab,
    sink,
    lenient: options.lenient,
    keepArgs: options.keepArgs,
    bracketSources: true,
  });
  parser.write(bytes);
  parser.end();
  return summary(parser);
}

/** Streams a binary trace file into a sink, bracketing its embedded sources like `readBinaryTrace`. */
export async function readBinaryTraceFile(
  path: string,
  vocab: Vocabulary,
  sink: EventSink,
  options: ReadBinaryOptions = {},
): Promise<BinaryReadSummary> {
  const file = options.file ?? path;
  const parser = createBinaryTraceParser({
    file,
    vocab,
    sink,
    lenient: options.lenient,
    keepArgs: options.keepArgs,
    bracketSources: true,
  });
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) parser.write(chunk as Buffer);
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(
      code === "ENOENT" ? "E_NOT_FOUND" : "E_IO",
      `cannot read ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  } finally {
    stream.destroy();
  }
  parser.end();
  return summary(parser);
}
