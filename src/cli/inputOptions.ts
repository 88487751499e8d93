// Options every command that reads traces shares (--format, --lenient), parsed and checked in one place. Light:
// commands register these at start-up, so this file loads no parser.

import type { Command } from "commander";
import { HomeostatError } from "../errors.js";
import { FORMAT_NAMES, type FormatName } from "../ingest/format.js";

export interface InputFlags {
  format?: string;
  lenient?: boolean;
}

export function isFormatFlag(s: string): s is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(s);
}

export function addInputOptions(cmd: Command): Command {
  return cmd
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--lenient", "skip malformed lines and report how many were skipped");
}

/** The reader options of the flags; E_USAGE for an unknown --format. */
export function inputReadOptions(flags: InputFlags): { format?: FormatName; lenient: boolean } {
  if (flags.format !== undefined && !isFormatFlag(flags.format)) {
    throw new HomeostatError("E_USAGE", `unknown --format "${flags.format}"`);
  }
  return {
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    lenient: flags.lenient ?? false,
  };
}
