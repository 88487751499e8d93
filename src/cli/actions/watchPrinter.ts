// What `homeostat watch` shows as it runs: alerts and actions on the terminal in colour, or alerts as Falco JSON
// lines on stdout (--json), each alert also appended to --alerts; the anomalies counted for the exit code.

import { closeSync, writeSync } from "node:fs";
import { type HostAlert, IMPOSSIBLE_RULE } from "../../engine/hostMonitor.js";
import { openRegularForAppending } from "../../ingest/outputFile.js";
import type { ResponseAction } from "../../response/responder.js";
import { paint } from "../terminal.js";
import type { WatchFlags } from "./watchPlan.js";

/** Alerts and actions on the terminal (or as JSON lines on stdout), and appended to --alerts; anomalies counted. */
export class WatchPrinter {
  anomalies = 0;
  private alertsFd: number | undefined;
  private readonly err = process.stderr;

  constructor(private readonly opts: WatchFlags) {}

  /** Opens --alerts for appending (a regular file only). */
  openAlertsFile(): void {
    if (this.opts.alerts !== undefined) this.alertsFd = openRegularForAppending(this.opts.alerts);
  }

  /** SIGHUP: --alerts opened again by its name (a log rotation moved the old file away). */
  reopenAlertsFile(): void {
    if (this.opts.alerts === undefined) return;
    const next = openRegularForAppending(this.opts.alerts);
    this.closeAlertsFile();
    this.alertsFd = next;
  }

  closeAlertsFile(): void {
    if (this.alertsFd !== undefined) closeSync(this.alertsFd);
    this.alertsFd = undefined;
  }

  readonly onAlert = (a: HostAlert): void => {
    const line = `${JSON.stringify(a)}\n`;
    if (this.alertsFd !== undefined) writeSync(this.alertsFd, line);
    if (a.rule === "Anomalous system calls" || a.rule === IMPOSSIBLE_RULE) this.anomalies++;
    if (this.opts.json) {
      process.stdout.write(line);
      return;
    }
    if (a.tags.includes("lifecycle") && this.opts.quiet) return;
    const colour =
      a.priority === "Critical" || a.priority === "Error" ? "red" : a.priority === "Warning" ? "yellow" : "cyan";
    this.err.write(`${paint(a.priority.toUpperCase(), colour, this.err)} ${a.output}\n`);
    const window = a.output_fields["homeostat.window"];
    if (Array.isArray(window)) this.err.write(`  ... ${window.join(", ")}\n`);
  };

  readonly onAction = (a: ResponseAction): void => {
    if (this.opts.json) return; // actions are in the store; the JSON stream stays Falco alerts only
    const colour = a.outcome === "refused" ? "yellow" : "red";
    this.err.write(
      `${paint("ACTION", colour, this.err)} ${a.kind} pid ${a.pid} ${a.exe}: ${a.outcome} (${a.reason})\n`,
    );
  };
}
