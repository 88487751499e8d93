// Options every command that reads traces shares (--format, --lenient, --max-input-bytes), parsed and checked in
// one place, and --max-held-calls for commands that must hold whole traces. Light: commands register these at
// start-up, so this file loads no parser.

import type { Command } from "commander";
import { HomeostatError } from "../errors.js";
import { FORMAT_NAMES, type FormatName } from "../ingest/format.js";
import { intOption } from "./numberOptions.js";

/** The default of --max-input-bytes, 64 GiB: the library's default too (DEFAULT_LIMITS, checked by a test). */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 ** 3;

/** Most calls held in memory by default where whole traces are needed (HMM training, eval): 200 MB of ids. */
export const DEFAULT_MAX_HELD_CALLS = 100_000_000;

export interface InputFlags {
  format?: string;
  lenient?: boolean;
  maxInputBytes?: number;
}

export function isFormatFlag(s: string): s is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(s);
}

/** --max-input-bytes alone, for commands that register --format and --lenient themselves. */
export function addMaxInputBytesOption(cmd: Command): Command {
  return cmd.option(
    "--max-input-bytes <bytes>",
    `stop with an error past this many bytes read from all inputs, decompressed (default ${DEFAULT_MAX_INPUT_BYTES}, 64 GiB)`,
    intOption("max-input-bytes", 1, Number.MAX_SAFE_INTEGER),
  );
}

export function addInputOptions(cmd: Command): Command {
  cmd
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--lenient", "skip malformed lines and report how many were skipped");
  return addMaxInputBytesOption(cmd);
}

/** --max-held-calls, for commands that hold whole traces in memory. */
export function addMaxHeldCallsOption(cmd: Command, why: string): Command {
  return cmd.option(
    "--max-held-calls <calls>",
    `stop with an error past this many calls held in memory (${why}; default ${DEFAULT_MAX_HELD_CALLS})`,
    intOption("max-held-calls", 1, Number.MAX_SAFE_INTEGER),
  );
}

/** eval's `--attack [TYPE=]PATH`: a type and a path, or a bare PATH (type "attack"). */
export function parseAttackArg(text: string): { type: string; path: string } {
  const eq = text.indexOf("=");
  if (eq > 0 && !text.slice(0, eq).includes("/")) return { type: text.slice(0, eq), path: text.slice(eq + 1) };
  return { type: "attack", path: text };
}

/** The input limits of the flags (only what the user set: the rest keeps its default). */
export function inputLimits(flags: Pick<InputFlags, "maxInputBytes">): { limits?: { maxInputBytes: number } } {
  return flags.maxInputBytes !== undefined ? { limits: { maxInputBytes: flags.maxInputBytes } } : {};
}

/** The reader options of the flags; E_USAGE for an unknown --format. */
export function inputReadOptions(flags: InputFlags): {
  format?: FormatName;
  lenient: boolean;
  limits?: { maxInputBytes: number };
} {
  if (flags.format !== undefined && !isFormatFlag(flags.format)) {
    throw new HomeostatError("E_USAGE", `unknown --format "${flags.format}"`);
  }
  return {
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    lenient: flags.lenient ?? false,
    ...inputLimits(flags),
  };
}
