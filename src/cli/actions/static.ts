// The work of `homeostat static` (registered in ../commands/static.ts).

import { HomeostatError } from "../../errors.js";
import { encodeProfile } from "../../models/profile.js";
import { formatModelSpec } from "../../models/registry.js";
import { staticProfile } from "../../static/staticProfile.js";
import { seccompPolicy } from "../../response/seccompPolicy.js";
import { analyzeProgram, type CodeSite, type StaticModel } from "../../static/index.js";
import type { CliContext } from "../context.js";
import { writeAtomically } from "../partialOutput.js";
import { staticCache } from "../staticCache.js";
import { num, paint, table } from "../terminal.js";

export interface StaticFlags {
  json?: boolean;
  out?: string;
  seccomp?: string;
  plugins?: string[];
  digraph?: boolean;
  cache: boolean;
  cacheDir?: string;
  libcPlugins: boolean;
}

export function runStatic(binaries: string[], flags: StaticFlags, ctx: CliContext): void {
  if ((flags.out !== undefined || flags.seccomp !== undefined) && binaries.length !== 1) {
    throw new HomeostatError("E_USAGE", "--out and --seccomp describe one program: give exactly one binary");
  }
  const cache = staticCache(flags);
  const models = binaries.map((b) =>
    analyzeProgram(b, {
      digraph: flags.digraph === true,
      libcPlugins: flags.libcPlugins,
      ...(flags.plugins !== undefined ? { plugins: flags.plugins } : {}),
      ...(cache !== undefined ? { cache } : {}),
    }),
  );
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(models.length === 1 ? models[0] : models)}\n`);
  } else {
    process.stdout.write(models.map(describeModel).join("\n"));
  }
  const model = models[0]!;
  const say = (line: string): void => {
    (flags.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  if (flags.out !== undefined) {
    const profile = staticProfile(model, flags.digraph === true ? "digraph" : "set");
    const bytes = encodeProfile(profile);
    writeAtomically(flags.out, bytes);
    say(
      `wrote ${formatModelSpec(profile.detector.kind, profile.detector.options)} profile of ${model.program} ` +
        `-> ${flags.out} (${num(bytes.length)} bytes)`,
    );
  }
  if (flags.seccomp !== undefined) {
    const { profile, skipped } = seccompPolicy(model.names, "enforce", {
      comment: seccompComment(model),
      runtimeCalls: true,
    });
    writeAtomically(flags.seccomp, `${JSON.stringify(profile, null, 2)}\n`);
    const runtime = profile.syscalls[1]?.names.length ?? 0;
    say(
      `wrote seccomp allow-list -> ${flags.seccomp}: ${profile.syscalls[0]!.names.length} calls of the program` +
        `${runtime > 0 ? ` + ${runtime} the container runtime makes before it starts (assumes no-new-privileges)` : ""}` +
        `${skipped.length > 0 ? `; left out, no x86_64 name: ${skipped.join(", ")}` : ""}`,
    );
  }
  ctx.exitCode = 0;
}

function seccompComment(model: StaticModel): string {
  return (
    `system calls the code of ${model.program} and its libraries can make, found by static analysis ` +
    `(homeostat static; Wagner & Dean 2001)` +
    (model.complete ? "" : "; the analysis is INCOMPLETE, so calls the program makes may be missing")
  );
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Words joined by ", " and wrapped at `width` columns under `indent`. */
function wrap(words: readonly string[], indent: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const [i, w] of words.entries()) {
    const piece = i < words.length - 1 ? `${w},` : w;
    if (line !== "" && indent.length + line.length + 1 + piece.length > width) {
      lines.push(line);
      line = piece;
    } else line = line === "" ? piece : `${line} ${piece}`;
  }
  if (line !== "") lines.push(line);
  return lines.map((l) => `${indent}${l}`).join("\n");
}

function siteRows(kind: string, sites: readonly CodeSite[]): string[][] {
  return sites.map((s) => [kind, s.object, hex(s.address), s.function ?? "?", s.reason]);
}

/** The human report of one model. */
export function describeModel(m: StaticModel): string {
  const out: string[] = [paint(m.program, "bold")];
  if (m.script !== undefined) {
    out.push(
      `  ${m.script.path} is a script: its #! interpreter ${m.script.interpreter} was analysed, so the set is ` +
        `everything the interpreter can call, not only what the script does`,
    );
  }
  out.push(...objectLines(m), ...callLines(m), ...(m.complete ? completeLines() : incompleteLines(m)));
  const s = m.stats;
  out.push(
    `  analysed in ${num(s.milliseconds / 1000, 2)} s: ${num(s.functions)} functions (${num(s.reachableFunctions)} ` +
      `reachable), ${num(s.instructions)} instructions, ${num(s.reachableSyscallSites)} of ${num(s.syscallSites)} ` +
      "system-call sites reachable",
  );
  return `${out.join("\n")}\n`;
}

/** A table indented under its heading. */
function indentedTable(header: string[], rows: string[][]): string {
  return table(header, rows)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

function objectLines(m: StaticModel): string[] {
  return [
    `  ${m.objects.length} objects:`,
    indentedTable(
      ["role", "path", "build-id", "summary"],
      m.objects.map((o) => [o.role, o.path, o.buildId?.slice(0, 16) ?? "-", o.cached ? "cached" : "analysed"]),
    ),
  ];
}

/** The set, the digraph's size, and the calls allowed whatever the binary. */
function callLines(m: StaticModel): string[] {
  const out = [`  ${m.syscalls.length} system calls:`, wrap(m.names, "    ")];
  if (m.pairs !== undefined) {
    out.push(
      `  digraph: ${num(m.pairs.length)} ordered pairs; on average ${num(m.branchingFactor, 1)} calls may follow ` +
        `a call (branching factor; the set alone allows ${m.syscalls.length})`,
    );
  }
  out.push("  always allowed:");
  for (const a of m.alwaysAllowed) out.push(`    ${a.name}: ${a.why}`);
  return out;
}

function completeLines(): string[] {
  return [
    `  ${paint("complete", "green")}: every reachable system-call site has a known number and no dlopen is left ` +
      "unanalysed, so a call outside the set is one the binary cannot make",
  ];
}

/** Why the model is incomplete, and the sites that make it so. */
function incompleteLines(m: StaticModel): string[] {
  const parts = [
    ...(m.unresolved.length > 0
      ? [
          `${m.unresolved.length} reachable system-call site${m.unresolved.length === 1 ? "" : "s"} with an unknown number`,
        ]
      : []),
    ...(m.dlopen.length > 0
      ? [
          `${m.dlopen.length} reachable dlopen call${m.dlopen.length === 1 ? "" : "s"} whose plugins were not analysed (--plugins)`,
        ]
      : []),
  ];
  const rows = [...siteRows("unresolved", m.unresolved), ...siteRows("dlopen", m.dlopen)];
  return [
    `  ${paint("INCOMPLETE", "yellow")}: ${parts.join(" and ")}; calls made from there may be missing from the ` +
      "set, so this model cannot claim zero false alarms",
    indentedTable(["site", "object", "address", "function", "reason"], rows),
  ];
}
