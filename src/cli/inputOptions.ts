// Options every command that reads traces shares (--format, --lenient), parsed and checked in one place.

import type { Command } from "commander";
import { HomeostatError } from "../errors.js";
import type { FormatName } from "../ingest/format.js";
import { isFormatName } from "../ingest/reader.js";

export interface InputFlags {
  format?: string;
  lenient?: boolean;
}

export function addInputOptions(cmd: Command): Command {
  return cmd
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--lenient", "skip malformed lines and report how many were skipped");
}

export function inputReadOptions(flags: InputFlags): { format?: FormatName; lenient: boolean } {
  if (flags.format !== undefined && !isFormatName(flags.format)) {
    throw new HomeostatError("E_USAGE", `unknown --format "${flags.format}"`);
  }
  return {
    ...(flags.format !== undefined ? { format: flags.format as FormatName } : {}),
    lenient: flags.lenient ?? false,
  };
}
