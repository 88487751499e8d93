// The homeostat command line. Only the CLI talks to the terminal and decides exit codes (src/cli/errors.ts): 0
// success, 1 anomalies found (where that is the question), 2 usage or input error, 3 environment, 70 internal.
//
// Start-up stays cheap: this file loads no command. Each command's module registers its options and help and loads
// its implementation only when it runs; and only the modules the command line needs are loaded at all: none for
// --version, the named one for `homeostat CMD ...` and `homeostat help CMD`, every one for the top-level help and
// for an unknown command (whose error suggests the nearest name).

import { createRequire } from "node:module";
import type { Command as CommandType } from "commander";
import type { CliContext } from "./context.js";
import { EXIT_OK, EXIT_USAGE, exitCodesHelp, reportError } from "./errors.js";
import { VERSION } from "./version.js";

export type { CliContext } from "./context.js";

// commander is CommonJS: required as such it skips the ESM loader's translation of its files (a parse of each),
// part of every command's start-up.
const { Command, CommanderError } = createRequire(import.meta.url)("commander") as typeof import("commander");
type Command = CommandType;

type Register = (program: Command, ctx: CliContext) => void;

/** Every command in the order of the help, each with how to load its registration. */
const COMMANDS: readonly { name: string; load: () => Promise<Register> }[] = [
  { name: "inspect", load: async () => (await import("./commands/inspect.js")).registerInspect },
  { name: "convert", load: async () => (await import("./commands/convert.js")).registerConvert },
  { name: "train", load: async () => (await import("./commands/train.js")).registerTrain },
  { name: "score", load: async () => (await import("./commands/score.js")).registerScore },
  { name: "eval", load: async () => (await import("./commands/eval.js")).registerEval },
  { name: "detect", load: async () => (await import("./commands/detect.js")).registerDetect },
  { name: "demo", load: async () => (await import("./commands/demo.js")).registerDemo },
  { name: "record", load: async () => (await import("./commands/record.js")).registerRecord },
  { name: "watch", load: async () => (await import("./commands/watch.js")).registerWatch },
  { name: "profiles", load: async () => (await import("./commands/profiles.js")).registerProfiles },
  { name: "static", load: async () => (await import("./commands/static.js")).registerStatic },
  { name: "mimicry", load: async () => (await import("./commands/mimicry.js")).registerMimicry },
  { name: "serve", load: async () => (await import("./commands/serve.js")).registerServe },
  { name: "scenarios", load: async () => (await import("./commands/scenarios.js")).registerScenarios },
  { name: "fleet", load: async () => (await import("./commands/fleet.js")).registerFleet },
];

export const COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

/**
 * The commands whose modules parsing `argv` needs. Commander honours --version anywhere before `--`, before any
 * command runs. Otherwise the program's operands are what precedes the first option it does not know (its only
 * other option, --debug, takes no value): the first names the command, the second the subject of `help`.
 */
export function commandsNeeded(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf("--");
  const head = end < 0 ? argv : argv.slice(0, end);
  if (head.includes("-V") || head.includes("--version")) return [];
  const operands: string[] = [];
  for (const a of head) {
    if (a === "--debug") continue;
    if (a.length > 1 && a.startsWith("-")) break;
    operands.push(a);
  }
  const known = (name: string | undefined): name is string => name !== undefined && COMMAND_NAMES.includes(name);
  const [first, second] = operands;
  if (known(first)) return [first];
  if (first === "help" && known(second)) return [second];
  return COMMAND_NAMES;
}

/** The program with the commands `argv` needs (all of them without `argv`). */
export async function buildProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
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
    })
    .addHelpText("after", exitCodesHelp);
  const wanted = new Set(argv === undefined ? COMMAND_NAMES : commandsNeeded(argv));
  const chosen = COMMANDS.filter((c) => wanted.has(c.name));
  const registers = await Promise.all(chosen.map((c) => c.load()));
  for (const register of registers) register(program, ctx);
  for (const c of program.commands) c.exitOverride();
  if (chosen.length > 0) {
    // Every file output is checked before its command starts (outputOptions.ts): a bad -o fails at once.
    const outputs = await import("./outputOptions.js");
    program.hook("preAction", (_program, action) => outputs.checkOutputOptions(action));
    outputs.addOutputHelp(program);
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const ctx: CliContext = { exitCode: EXIT_OK };
  const debug = argv.includes("--debug");
  try {
    const program = await buildProgram(ctx, argv);
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
