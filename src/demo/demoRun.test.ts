import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandExists, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { renderDemoReport } from "./demoReport.js";
import { runDemo } from "./demoRun.js";
import { staticStoryLine } from "./staticCheck.js";

const reason =
  straceUnavailableReason() ?? (commandExists("cc") ? undefined : "no C compiler (apt-get install gcc libc6-dev)");
if (reason !== undefined) console.log(`skipping the demo end to end: ${reason}`);

describe.skipIf(reason !== undefined)("the demo, end to end (real server, real strace, real exploit)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-demo-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "catches the exploit with no false alarm on held-out normal sessions, in under 60 s",
    { timeout: 120_000 },
    async () => {
      const r = await runDemo({ workDir: dir, staticCacheDir: join(dir, "static-cache") });
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
      // Zero training: the static set model of the server. Held-out normal sessions stay inside it; the hijacked
      // session's system() makes calls the server's code cannot (measured on glibc 2.36: clone3, execve, wait4; the
      // fork of each session is clone, which the set holds).
      const st = r.staticModel!;
      expect(st, r.staticError).not.toBeNull();
      expect(st.complete).toBe(true);
      expect(st.normal.checkedCalls).toBeGreaterThan(100);
      expect(st.normal.impossible).toEqual([]);
      const names = st.exploit.impossible.map((c) => c.syscall);
      expect(names).toEqual(expect.arrayContaining(["execve", "wait4"]));
      expect(names).not.toContain("clone");
      expect(st.exploit.executed).toContain("/bin/sh");
      const first = st.exploit.first!;
      expect(first.pid).toBeGreaterThan(0);
      const line = staticStoryLine(st, r.heldOutSessions);
      expect(line).toMatch(
        /^static model \(no training\): the server's code can make \d+ system calls; the 10 held-out normal sessions made none outside them; the exploit made \d+ it cannot: /,
      );
      expect(line).toContain("execve");
      expect(line).toContain(`at call ${first.call} of pid ${first.pid}`);
      // Mimicry from where the shell's execve was made: the server never execs in training, so no window of stide
      // ends in execve (a proof), and execve is outside the static set whatever comes before it.
      const m = r.mimicry!;
      expect(m.rows.map((row) => row.model)).toEqual(["stide", "lookahead", "ngram", "static (set)"]);
      expect(m.contextCalls).toBeGreaterThan(5);
      const row = (name: string) => m.rows.find((x) => x.model === name)!;
      expect(row("stide")).toMatchObject({ found: false, complete: true });
      expect(row("static (set)")).toMatchObject({ found: false, complete: true });
      for (const x of m.rows) if (x.found) expect(x.calls[x.calls.length - 1]).toBe("execve");
      expect(html).toContain("Mimicry: what would run the shell unseen");
    },
  );
});
