// The registry of trace formats, in the order detection tries them (most specific first).

import { HomeostatError } from "../errors.js";
import { adfaFormat } from "./adfaParser.js";
import { binaryTraceFormat } from "./binaryTrace.js";
import { FORMAT_NAMES, type FormatName, mostLikelyFormat, type TraceFormat } from "./format.js";
import { lidds2019Format } from "./lidds2019Parser.js";
import { lidds2021Format } from "./liddsParser.js";
import { straceFormat } from "./straceParser.js";
import { unmFormat } from "./unmParser.js";

export const FORMATS: readonly TraceFormat[] = [
  binaryTraceFormat,
  lidds2021Format,
  lidds2019Format,
  straceFormat,
  unmFormat,
  adfaFormat,
];

/** Picks the most likely format for an entry from its first bytes and name. */
export function detectFormat(head: Uint8Array, path: string): TraceFormat | undefined {
  return mostLikelyFormat(FORMATS, head, path);
}

export function formatByName(name: string): TraceFormat {
  const f = FORMATS.find((x) => x.name === name);
  if (f === undefined) {
    throw new HomeostatError("E_USAGE", `unknown format "${name}" (known: ${FORMAT_NAMES.join(", ")})`);
  }
  return f;
}

export type { FormatName };
