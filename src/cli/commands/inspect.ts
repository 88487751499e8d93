// `homeostat inspect PATH...`: what is in a set of traces: counts, lengths, groups by split and attack type, the
// most frequent syscalls and categories. The first command a user runs on a new data set.

import type { Command } from "commander";
import { isFormatName, readTraces, type ReadReport } from "../../ingest/reader.js";
import { TraceStats, type TraceStatsSummary } from "../../ingest/traceStats.js";
import { HomeostatError } from "../../errors.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../main.js";
import { num, paint, progress, table } from "../terminal.js";

export interface InspectResult extends TraceStatsSummary {
  inputs: string[];
  entries: number;
  bytes: number;
  formats: ReadReport["formats"];
  skippedLines: number;
  skippedInputs: ReadReport["skippedInputs"];
}

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command("inspect")
    .description("summarise traces: counts, lengths, groups (split, attack type), top syscalls and categories")
    .argument("<path...>", "trace files, folders or archives (.gz, .tar, .tar.gz, .zip)")
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--json", "print one JSON object on stdout")
    .option("--lenient", "skip malformed lines and report how many were skipped")
    .option("--top <n>", "how many top syscalls and categories to list", "10")
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat inspect ../shared/datasets/adfa-ld\n  homeostat inspect --json trace.strace | jq .syscalls",
    )
    .action(async (paths: string[], opts: { format?: string; json?: boolean; lenient?: boolean; top: string }) => {
      if (opts.format !== undefined && !isFormatName(opts.format)) {
        throw new HomeostatError("E_USAGE", `unknown --format "${opts.format}"`);
      }
      const top = Number(opts.top);
      if (!Number.isInteger(top) || top < 0) throw new HomeostatError("E_USAGE", "--top needs a non-negative integer");
      const vocab = new Vocabulary();
      const stats = new TraceStats(vocab);
      const bar = progress("reading", 1, !opts.json);
      let report: ReadReport;
      try {
        report = await readTraces(paths, {
          vocab,
          sink: stats,
          ...(opts.format !== undefined && isFormatName(opts.format) ? { format: opts.format } : {}),
          lenient: opts.lenient ?? false,
          onProgress: (p) => bar.update(p.entries, p.entries + 1, p.path.slice(-40)),
        });
      } finally {
        bar.stop();
      }
      const result: InspectResult = {
        inputs: paths,
        entries: report.entries,
        bytes: report.bytes,
        formats: report.formats,
        skippedLines: report.skippedLines,
        skippedInputs: report.skippedInputs,
        ...stats.summary(top),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } else {
        process.stdout.write(renderInspect(result));
      }
      ctx.exitCode = 0;
    });
}

export function renderInspect(r: InspectResult): string {
  const out: string[] = [];
  const formats = Object.entries(r.formats)
    .map(([f, n]) => `${f} ${num(n ?? 0)}`)
    .join(", ");
  out.push(
    `${paint(num(r.traces), "bold")} traces, ${paint(num(r.syscalls), "bold")} system calls, ` +
      `${num(r.distinctSyscalls)} distinct syscalls (from ${num(r.entries)} files: ${formats || "none"})`,
  );
  const L = r.length;
  out.push(
    `trace length: min ${num(L.min)}, p25 ${num(L.p25)}, median ${num(L.median)}, p75 ${num(L.p75)}, ` +
      `p95 ${num(L.p95)}, max ${num(L.max)}, mean ${num(L.mean, 1)}`,
  );
  if (r.groups.length > 0) {
    out.push("");
    out.push(
      table(
        ["group", "kind", "label", "traces", "syscalls", "distinct", "median len", "max len"],
        r.groups.map((g) => [
          g.name,
          g.kind,
          g.label,
          g.traces,
          g.syscalls,
          g.distinctSyscalls,
          g.length.median,
          g.length.max,
        ]),
      ),
    );
  }
  if (r.topSyscalls.length > 0) {
    out.push("");
    out.push(
      table(
        ["syscall", "calls", "share"],
        r.topSyscalls.map((s) => [s.name, s.count, `${(s.share * 100).toFixed(1)}%`]),
      ),
    );
  }
  if (r.topCategories.length > 0) {
    out.push("");
    out.push(
      table(
        ["category", "calls", "share"],
        r.topCategories.map((s) => [s.name, s.count, `${(s.share * 100).toFixed(1)}%`]),
      ),
    );
  }
  if (r.skippedLines > 0) out.push(`\n${paint(`skipped ${num(r.skippedLines)} malformed lines`, "yellow")}`);
  const notTraces = r.skippedInputs.length;
  if (notTraces > 0) {
    const shown = r.skippedInputs.slice(0, 5).map((s) => `  ${s.path}: ${s.reason}`);
    out.push(`\nnot read (${notTraces}):\n${shown.join("\n")}${notTraces > 5 ? "\n  ..." : ""}`);
  }
  return `${out.join("\n")}\n`;
}
