// `homeostat demo` (what `npm start` runs): the main job end to end on the intentionally vulnerable demo server.
// Prints a short story; --json prints one JSON object as the last line of stdout; --report writes the timeline
// page. Exit 0 when the exploit was caught with no false alarm on held-out normal sessions, 1 otherwise, 2 when
// strace or a C compiler is missing. One line says what the static model of the server binary (no training) says
// about the exploit: the calls its code cannot make that the exploited processes made.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { requireStrace } from "../../capture/straceCapture.js";
import { renderDemoReport } from "../../demo/demoReport.js";
import { runDemo } from "../../demo/demoRun.js";
import { staticStoryLine } from "../../demo/staticCheck.js";
import { EXIT_ANOMALY } from "../errors.js";
import { type CliContext, intOption } from "../main.js";
import { paint } from "../terminal.js";

interface DemoFlags {
  json?: boolean;
  report: string;
  sessions: number;
  seed: number;
}

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command("demo")
    .description("build a deliberately vulnerable server, learn its normal behaviour, and catch a real exploit")
    .option("--json", "print the result as one JSON object, the last line of stdout")
    .option("--report <file>", "write the per-call anomaly timeline as an HTML page", "homeostat-demo.html")
    .option("--sessions <n>", "normal sessions to train on", intOption("sessions", 4), 64)
    .option("--seed <n>", "seed of the normal workloads", intOption("seed", 0), 1)
    .action(async (flags: DemoFlags) => {
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
        writeFileSync(flags.report, renderDemoReport(r));
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
          say(`the exploit ${r.exploitSucceeded ? "ran `id` inside the server" : "did not complete"}: ` + (r.exploitDetected ? paint("DETECTED", "green") : paint("missed", "red")));
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
          say(`\n${r.seconds.toFixed(1)} s; timeline report: ${flags.report}`);
        }
        ctx.exitCode = ok ? 0 : EXIT_ANOMALY;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}
