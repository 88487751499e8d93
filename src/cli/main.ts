// The homeostat command line. Only the CLI talks to the terminal and decides exit codes: 0 success, 1 anomalies
// found (where that is the question), 2 usage or input error (one line, no stack unless --debug).

import { Command, CommanderError } from "commander";
import { HomeostatError } from "../errors.js";
import { registerConvert } from "./commands/convert.js";
import { registerDemo } from "./commands/demo.js";
import { registerDetect } from "./commands/detect.js";
import { registerEval } from "./commands/eval.js";
import { registerInspect } from "./commands/inspect.js";
import { registerProfiles } from "./commands/profiles.js";
import { registerRecord } from "./commands/record.js";
import { registerScore } from "./commands/score.js";
import { registerStatic } from "./commands/static.js";
import { registerTrain } from "./commands/train.js";
import { registerWatch } from "./commands/watch.js";
import { EXIT_OK, EXIT_USAGE, reportError } from "./errors.js";
import { VERSION } from "./version.js";

/** What a command's action reports back to main. */
export interface CliContext {
  exitCode: number;
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command();
  program
    .name("homeostat")
    .description(
      "A sense of self for Linux programs: learn normal system-call behaviour, flag what deviates, respond in proportion.",
    )
    .version(VERSION, "-V, --version")
    .option("--debug", "show stack traces on errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(`homeostat: ${s.replace(/^error: /, "usage error: ")}`),
    });
  registerInspect(program, ctx);
  registerConvert(program, ctx);
  registerTrain(program, ctx);
  registerScore(program, ctx);
  registerEval(program, ctx);
  registerDetect(program, ctx);
  registerDemo(program, ctx);
  registerRecord(program, ctx);
  registerWatch(program, ctx);
  registerProfiles(program, ctx);
  registerStatic(program, ctx);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const ctx: CliContext = { exitCode: EXIT_OK };
  const program = buildProgram(ctx);
  const debug = argv.includes("--debug");
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version") return EXIT_OK;
      if (err.code === "commander.help") return EXIT_OK;
      return EXIT_USAGE;
    }
    return reportError(err, debug);
  }
}

/** Parses a positive integer option, as a usage error when it is not one. */
export function intOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new HomeostatError("E_USAGE", `--${name} needs an integer >= ${min}, got "${value}"`);
    }
    return n;
  };
}

/** Parses a number option (fractions allowed), as a usage error when it is not one or is below `min`. */
export function numberOption(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) {
      throw new HomeostatError("E_USAGE", `--${name} needs a number >= ${min}, got "${value}"`);
    }
    return n;
  };
}
