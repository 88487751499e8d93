// The overview's runs beside a real `homeostat watch` (strace backend, a shell that waits for a file): while the
// watch runs, the overview says a watch is running and lists its run as running; once it has ended, the store holds
// its row with its end and its summary (the same figures the watch returned), and the overview shows them.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { until } from "../response/testing/waits.js";
import { StateStore } from "../store/stateStore.js";
import { startHostWatch } from "../watch/hostWatch.js";
import { createConsoleApp } from "./consoleApp.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the console's run test: ${unavailable}`);

/** Markup with white space collapsed. */
const flat = (text: string): string => text.replace(/\s+/g, " ").replace(/> </g, "><");

describe.skipIf(unavailable !== undefined)("the overview's runs beside a running watch (strace)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-serve-runs-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("shows the watch as running while it runs, then its ended run with the summary it stored", async () => {
    const state = join(dir, "state");
    const finished = join(dir, "finished");
    const store = StateStore.open(state);
    const watch = startHostWatch({
      backend: "strace",
      command: ["/bin/sh", "-c", `while [ ! -e '${finished}' ]; do sleep 0.02; done`],
      store,
      saveIntervalMs: 200,
      programOutput: "ignore",
    });
    const reader = StateStore.open(state, { readonly: true });
    try {
      const { app } = createConsoleApp({ store: reader });
      const overview = async () => flat(await (await app.request("/")).text());
      // The row is written at the start; its figures with the updates (at most every second here).
      await until("the run's row to count events", () => (reader.recentRuns(1)[0]?.events ?? 0) > 0, 30_000);
      const row = reader.recentRuns(1)[0]!;
      expect(row).toMatchObject({ pid: process.pid, backend: "strace", endedAt: null });
      const page = await overview();
      expect(page).toContain(`homeostat watch is running (pid ${process.pid})`);
      expect(page).toMatch(new RegExp(`<tr data-run="${row.id}">.*?<b>running</b>`));
    } finally {
      writeFileSync(finished, "");
    }
    const summary = await watch.done;
    store.close();
    try {
      const run = reader.recentRuns(1)[0]!;
      expect(run.endedAt).toBeCloseTo(summary.endedAt, 3);
      expect(run).toMatchObject({
        pid: process.pid,
        events: summary.monitor.events,
        alerts: summary.monitor.alerts,
      });
      expect(run.events).toBeGreaterThan(0);
      expect(run.summary).toMatchObject({
        backend: "strace",
        saves: summary.saves,
        profilesSaved: summary.profilesSaved,
        command: { exitCode: 0 },
      });
      const { app } = createConsoleApp({ store: reader });
      const page = flat(await (await app.request("/")).text());
      expect(page).toContain("No homeostat watch is running on this state directory.");
      expect(page).not.toContain("<b>running</b>");
      expect(page).toContain(`Last run that ended (#${run.id}`);
      expect(page).toContain(`profiles saved ${summary.profilesSaved}`);
      expect(page).toContain("command exit code 0");
    } finally {
      reader.close();
    }
  }, 60_000);
});
