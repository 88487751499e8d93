// The work of `homeostat inspect` (registered in ../commands/inspect.ts).

import { HomeostatError } from "../../errors.js";
import { readTraces, type ReadReport } from "../../ingest/reader.js";
import { TraceStats, type TraceStatsSummary } from "../../ingest/traceStats.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { inputLimits, isFormatFlag } from "../inputOptions.js";
import { num, paint, progress, table } from "../terminal.js";

export interface InspectFlags {
  format?: string;
  json?: boolean;
  lenient?: boolean;
  top: number;
  maxInputBytes?: number;
}

export interface InspectResult extends TraceStatsSummary {
  inputs: string[];
  entries: number;
  bytes: number;
  formats: ReadReport["formats"];
  skippedLines: number;
  skippedInputs: ReadReport["skippedInputs"];
}

export async function runInspect(paths: string[], opts: InspectFlags, ctx: CliContext): Promise<void> {
  if (opts.format !== undefined && !isFormatFlag(opts.format)) {
    throw new HomeostatError("E_USAGE", `unknown --format "${opts.format}"`);
  }
  const top = opts.top;
  const vocab = new Vocabulary();
  const stats = new TraceStats(vocab);
  const bar = progress("reading", 1, !opts.json);
  let report: ReadReport;
  try {
    report = await readTraces(paths, {
      vocab,
      sink: stats,
      ...(opts.format !== undefined && isFormatFlag(opts.format) ? { format: opts.format } : {}),
      lenient: opts.lenient ?? false,
      ...inputLimits(opts),
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
