// The work of `homeostat demo` (registered in ../commands/demo.ts).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { requireStrace } from "../../capture/straceCapture.js";
import type { DemoMimicryTable } from "../../demo/demoMimicry.js";
import { renderDemoReport } from "../../demo/demoReport.js";
import { runDemo } from "../../demo/demoRun.js";
import { staticStoryLine } from "../../demo/staticCheck.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { writeAtomically } from "../partialOutput.js";
import { paint } from "../terminal.js";

export interface DemoFlags {
  json?: boolean;
  report: string;
  sessions: number;
  seed: number;
}

export async function runDemoCommand(flags: DemoFlags, ctx: CliContext): Promise<void> {
  requireStrace();
  const work = mkdtempSync(path.join(tmpdir(), "homeostat-demo-"));
  const say = (s: string): void => {
    if (!flags.json) process.stdout.write(`${s}\n`);
  };
  try {
    const r = await runDemo({
      workDir: work,
      trainingSessions: flags.sessions,
      seed: flags.seed,
      onStep: (m) => say(paint(`· ${m}`, "dim")),
    });
    writeAtomically(flags.report, renderDemoReport(r));
    const ok = r.exploitDetected && r.falseAlarms === 0;
    if (flags.json) {
      const { timeline: _timeline, timelinePids: _pids, alarms, ...rest } = r;
      process.stdout.write(`${JSON.stringify({ ...rest, alarmCount: alarms.length, report: flags.report })}\n`);
    } else {
      say("");
      for (const m of r.models) {
        say(
          `  ${m.model.padEnd(10)} profile ${String(m.profileBytes).padStart(7)} bytes, threshold LFC > ${m.threshold}: ` +
            `${m.falseAlarms} false alarm${m.falseAlarms === 1 ? "" : "s"}, ${m.exploitAlarms} alarm${m.exploitAlarms === 1 ? "" : "s"} on the exploit`,
        );
      }
      say("");
      say(
        `${r.heldOutSessions} held-out normal sessions: ` +
          (r.falseAlarms === 0 ? paint("no false alarm", "green") : paint(`${r.falseAlarms} false alarms`, "red")),
      );
      say(
        `the exploit ${r.exploitSucceeded ? "ran `id` inside the server" : "did not complete"}: ` +
          (r.exploitDetected ? paint("DETECTED", "green") : paint("missed", "red")),
      );
      if (r.firstAlarm !== null) {
        const a = r.firstAlarm;
        say(`  first alarm: ${a.model}, pid ${a.pid}, call ${a.position}, LFC ${a.lfc} > ${a.threshold}`);
        say(`  the calls that led to it: ... ${a.window.join(", ")}`);
      }
      say(
        r.staticModel !== null
          ? staticStoryLine(r.staticModel, r.heldOutSessions)
          : `static model (no training): not available (${r.staticError ?? "unknown reason"})`,
      );
      if (r.mimicry !== null) for (const line of mimicryLines(r.mimicry)) say(line);
      say(`\n${r.seconds.toFixed(1)} s; timeline report: ${flags.report}`);
    }
    ctx.exitCode = ok ? 0 : EXIT_ANOMALY;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One line per model: what an attacker would have to inject for the shell's execve to go unseen. */
function mimicryLines(m: DemoMimicryTable): string[] {
  return [
    "mimicry (what an attacker who knows the model must inject so that the shell's execve raises no anomaly):",
    ...m.rows.map((row) => {
      const what = row.found
        ? `${row.calls.length} call${row.calls.length === 1 ? "" : "s"}: ${row.calls.join(", ")}`
        : row.complete
          ? "impossible (proved)"
          : `none found within ${row.explored} states`;
      return `  ${row.model.padEnd(12)} ${what}`;
    }),
  ];
}
