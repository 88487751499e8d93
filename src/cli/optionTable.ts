// Command options as data: a command with many options lists them as rows of a table, which one small function
// registers in order, instead of a long chain of `.option(...)` calls whose blocks repeat one another.

import type { Command } from "commander";
import { intOption, numberOption } from "./numberOptions.js";

/** One option of a command, as commander's `.option(flags, description, parser?, default?)` takes it. */
export interface OptionRow {
  flags: string;
  description: string;
  /** An integer in [min, max], refused with the long flag's name (numberOptions.ts). */
  int?: readonly [min: number, max: number];
  /** A number (fractions allowed) in [min, max], refused with the long flag's name. */
  number?: readonly [min: number, max: number];
  /** Any other parser of the value given the value so far (a repeatable option collecting its values). */
  parse?: (value: string, previous: string[]) => string[];
  default?: string | boolean | number | string[];
}

/** Registers `rows` on `command` in order, as the `.option(...)` chain they stand for would. */
export function addOptions(command: Command, rows: readonly OptionRow[]): Command {
  for (const row of rows) {
    const parse = parserOf(row);
    if (parse !== undefined) command.option<unknown>(row.flags, row.description, parse, row.default);
    else command.option(row.flags, row.description, row.default as string | boolean | string[] | undefined);
  }
  return command;
}

function parserOf(row: OptionRow): ((value: string, previous: unknown) => unknown) | undefined {
  if (row.int !== undefined) return intOption(longName(row.flags), row.int[0], row.int[1]);
  if (row.number !== undefined) return numberOption(longName(row.flags), row.number[0], row.number[1]);
  return row.parse as ((value: string, previous: unknown) => unknown) | undefined;
}

/** `delay-factor` of `--delay-factor <ms>` (and `pid` of `-p, --pid <pid>`). */
function longName(flags: string): string {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1];
  if (long === undefined) throw new Error(`option ${flags} has no long flag`);
  return long;
}
