import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandExists, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { renderDemoReport } from "./demoReport.js";
import { runDemo } from "./demoRun.js";

const reason = straceUnavailableReason() ?? (commandExists("cc") ? undefined : "no C compiler (apt-get install gcc libc6-dev)");
if (reason !== undefined) console.log(`skipping the demo end to end: ${reason}`);

describe.skipIf(reason !== undefined)("the demo, end to end (real server, real strace, real exploit)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-demo-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("catches the exploit with no false alarm on held-out normal sessions, in under 60 s", { timeout: 120_000 }, async () => {
    const r = await runDemo({ workDir: dir });
    expect(r.exploitSucceeded).toBe(true);
    expect(r.exploitDetected).toBe(true);
    expect(r.falseAlarms).toBe(0);
    expect(r.seconds).toBeLessThan(60);
    expect(r.trainingCalls).toBeGreaterThan(1000);
    // The alarm names the calls behind it, and every model's threshold came from normal data.
    expect(r.firstAlarm!.window.length).toBeGreaterThan(0);
    expect(r.models.map((m) => m.model)).toEqual(["stide", "lookahead", "ngram"]);
    // The timeline holds both sessions for every model, and the report embeds it.
    expect(new Set(r.timeline.map((p) => `${p.session}/${p.model}`)).size).toBe(6);
    const html = renderDemoReport(r);
    expect(html).toContain('id="chart-timeline"');
    expect(html).toContain("<b>detected</b>");
  });
});
