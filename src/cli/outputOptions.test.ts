import { describe, expect, it } from "vitest";
import type { CliContext } from "./context.js";
import { buildProgram } from "./main.js";
import { commandPath, OUTPUT_HELP, OUTPUT_OPTIONS, STDOUT_OUTPUTS } from "./outputOptions.js";

describe("the table of output options", () => {
  it("names, for each command, options it registers that take a file", async () => {
    const program = await buildProgram({ exitCode: 0 } satisfies CliContext);
    const commands = new Map<string, (typeof program.commands)[number]>();
    const visit = (c: typeof program): void => {
      for (const sub of c.commands) {
        commands.set(commandPath(sub), sub);
        visit(sub);
      }
    };
    visit(program);
    for (const [where, keys] of Object.entries(OUTPUT_OPTIONS)) {
      const cmd = commands.get(where);
      expect(cmd, where).toBeDefined();
      for (const key of keys) {
        const option = cmd!.options.find((o) => o.attributeName() === key);
        expect(option, `${where} --${key}`).toBeDefined();
        expect(option!.required || option!.optional, `${where} --${key} takes a value`).toBe(true);
      }
    }
    for (const entry of STDOUT_OUTPUTS) {
      const [where, key] = [entry.slice(0, entry.lastIndexOf(" ")), entry.slice(entry.lastIndexOf(" ") + 1)];
      expect(OUTPUT_OPTIONS[where], entry).toContain(key);
    }
  });

  it("every command that replaces a file says so in its help; the lines fit 80 columns", async () => {
    const program = await buildProgram({ exitCode: 0 });
    for (const name of ["train", "convert", "eval", "record", "static", "demo"]) {
      const cmd = program.commands.find((c) => c.name() === name)!;
      let help = "";
      cmd.configureOutput({ writeOut: (s) => (help += s) });
      cmd.outputHelp();
      expect(help, name).toContain(OUTPUT_HELP.trim());
    }
    for (const line of OUTPUT_HELP.split("\n")) expect(line.length).toBeLessThanOrEqual(80);
  });
});
