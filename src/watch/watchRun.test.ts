// A watch's row in the runs table is never a reason not to watch: on a full disk (a small tmpfs, root only) watch
// starts anyway, warns once that it cannot record the run, and once there is room again the row is written, ending
// with the run's summary. And without a disk to fill: a store that refuses every write gives one warning, not an error.

import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { StateStore } from "../store/stateStore.js";
import { startHostWatch } from "./hostWatch.js";
import { WatchRun } from "./watchRun.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-watchrun-"));
const mounted =
  process.getuid?.() === 0 && spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).status === 0;
const why = !mounted ? "needs root to mount a small tmpfs" : straceUnavailableReason();
if (why !== undefined) console.log(`skipping the full-disk run test: ${why}`);
afterAll(() => {
  if (mounted) spawnSync("umount", [dir]);
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file until the disk refuses more (ENOSPC); returns its path. */
function fill(at: string): string {
  const file = join(at, "filler");
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
  return file;
}

const stats = { events: 5, lost: { kernel: 1, capture: 2, monitor: 0 }, alerts: 3 } as const;

describe("a watch run's row", () => {
  it("is a warning, said once, when the store refuses to write it", () => {
    const state = mkdtempSync(join(tmpdir(), "homeostat-watchrun-ro-"));
    try {
      StateStore.open(state).close();
      const store = StateStore.open(state, { readonly: true });
      const warnings: string[] = [];
      const run = new WatchRun({ store, backend: "strace", startedAt: 1, onWarning: (m) => warnings.push(m) });
      run.begin();
      run.update(stats as never);
      run.end(stats as never, { ok: true });
      store.close();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^cannot record this run in the state database \(.*read-only.*\); watching goes on/);
      expect(run.runId).toBeUndefined();
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it.skipIf(why !== undefined)(
    "does not stop watch from starting on a full disk, and is written with the summary once there is room",
    async () => {
      const state = join(dir, "state");
      mkdirSync(state);
      const store = StateStore.open(state);
      const filler = fill(dir);
      const flag = join(dir, "flag");
      const warnings: string[] = [];
      const watch = startHostWatch({
        backend: "strace",
        command: ["sh", "-c", `ls / >/dev/null; while [ ! -e ${flag} ]; do ls / >/dev/null; done`],
        store,
        programOutput: "ignore",
        saveIntervalMs: 20,
        onWarning: (m) => warnings.push(m),
        onAlert: (a) => {
          if (a.rule === "homeostat store full: profiles not saved") rmSync(filler);
          if (a.rule === "homeostat store saves resumed") closeSync(openSync(flag, "w"));
        },
      });
      const summary = await watch.done;
      store.close();
      expect(warnings.filter((w) => w.startsWith("cannot record this run"))).toHaveLength(1);
      expect(warnings[0]).toContain("the disk is full");
      const reader = StateStore.open(state, { readonly: true });
      const runs = reader.recentRuns(5);
      reader.close();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ pid: process.pid, events: summary.monitor.events });
      expect(runs[0]!.startedAt).toBeCloseTo(summary.startedAt, 3);
      expect(runs[0]!.endedAt).toBeCloseTo(summary.endedAt, 3);
      expect(runs[0]!.summary).toMatchObject({ saves: summary.saves, alertsStored: summary.alertsStored });
    },
    60_000,
  );
});
