// The trace formats as reading meets them, each parser loaded on first need: a format whose byte test
// (formatHints.ts) rejects a head cannot be that head's format, so it is ruled out without loading its module, and a
// folder of ADFA-LD traces never loads the strace or LID-DS parsers, which are most of the ingest stage's code.
// Start-up is part of every command's cost. Detection gives the answer formats.ts's detectFormat gives over every
// format (the tests compare them).

import { HomeostatError } from "../errors.js";
import { FORMAT_NAMES, type FormatName, sniffScore, SURE_ENOUGH, type TraceFormat } from "./format.js";
import { beginsAsNumberList, hasBinaryTraceMagic, hasEventDirection, hasStraceMarker } from "./formatHints.js";

interface LazyFormat {
  readonly name: FormatName;
  /** False only for heads the format's sniff scores 0. */
  mayMatch(head: Uint8Array): boolean;
  load(): Promise<TraceFormat>;
}

/** Every format, in the order of formats.ts's FORMATS (which breaks ties between equal scores). */
export const LAZY_FORMATS: readonly LazyFormat[] = [
  {
    name: "homeostat",
    mayMatch: hasBinaryTraceMagic,
    load: async () => (await import("./binaryTrace.js")).binaryTraceFormat,
  },
  {
    name: "lidds2021",
    mayMatch: hasEventDirection,
    load: async () => (await import("./liddsParser.js")).lidds2021Format,
  },
  {
    name: "lidds2019",
    mayMatch: hasEventDirection,
    load: async () => (await import("./lidds2019Parser.js")).lidds2019Format,
  },
  { name: "strace", mayMatch: hasStraceMarker, load: async () => (await import("./straceParser.js")).straceFormat },
  { name: "unm", mayMatch: beginsAsNumberList, load: async () => (await import("./unmParser.js")).unmFormat },
  { name: "adfa", mayMatch: beginsAsNumberList, load: async () => (await import("./adfaParser.js")).adfaFormat },
];

/** The formats loaded so far, at their index in LAZY_FORMATS. */
const loaded: (TraceFormat | undefined)[] = LAZY_FORMATS.map(() => undefined);

/** The format of a name, loading its parser; E_USAGE for a name that is not a format. */
export async function loadFormat(name: string): Promise<TraceFormat> {
  const i = LAZY_FORMATS.findIndex((f) => f.name === name);
  if (i < 0) throw new HomeostatError("E_USAGE", `unknown format "${name}" (known: ${FORMAT_NAMES.join(", ")})`);
  return loaded[i] ?? load(i);
}

async function load(i: number): Promise<TraceFormat> {
  const format = await LAZY_FORMATS[i]!.load();
  loaded[i] = format;
  return format;
}

/** Whether format i is not loaded yet and a head (its first bytes, up to 64 KiB) may be in it. */
function missing(i: number, head: Uint8Array): boolean {
  return loaded[i] === undefined && LAZY_FORMATS[i]!.mayMatch(head);
}

/** Whether every format a head may be in is loaded: then sniffLoaded answers. */
export function loadedFor(head: Uint8Array): boolean {
  for (let i = 0; i < LAZY_FORMATS.length; i++) if (missing(i, head)) return false;
  return true;
}

/** Loads (each once per process) every format a head may be in. */
export async function loadFor(head: Uint8Array): Promise<void> {
  for (let i = 0; i < LAZY_FORMATS.length; i++) if (missing(i, head)) await load(i);
}

/**
 * detectFormat's answer for a head and path, once loadedFor(head) holds: the formats not loaded cannot be the head's.
 * Nothing is allocated: it runs once per input, and a folder may hold thousands.
 */
export function sniffLoaded(head: Uint8Array, path: string): TraceFormat | undefined {
  let best: TraceFormat | undefined;
  let bestScore = 0;
  for (let i = 0; i < LAZY_FORMATS.length; i++) {
    const format = loaded[i];
    if (format === undefined || !LAZY_FORMATS[i]!.mayMatch(head)) continue;
    const score = sniffScore(format, head, path);
    if (score > bestScore) {
      best = format;
      bestScore = score;
    }
  }
  return bestScore >= SURE_ENOUGH ? best : undefined;
}
