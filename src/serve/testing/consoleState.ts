// A small state directory for the console's tests: profiles made through the library (a normal /usr/bin/true, a
// training /usr/bin/false, and one whose name is markup), alerts with windows of calls, a response action, a static
// model and a run; and an alert that looks like watch's, for inserting while a page is open.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST_SYMBOLS } from "../../engine/staticCheck.js";
import { PhProfile } from "../../lifecycle/phProfile.js";
import { type AlertRecord, StateStore } from "../../store/stateStore.js";
import { syscallTable } from "../../syscalls/abi.js";
import { profileRecord } from "../../watch/storedProfiles.js";

export const nr = (name: string): number => syscallTable("x86_64").numberOf(name)!;
const CALLS = ["openat", "read", "write", "close", "exit_group"].map(nr);

export const TRUE_KEY = "/usr/bin/true@1:2";
export const FALSE_KEY = "/usr/bin/false@1:3";
export const EVIL_NAME = "<script>alert(1)</script>";
export const EVIL_KEY = `/tmp/${EVIL_NAME}@1:4`;

/** An anomaly alert of `key` at `time`, as watch stores it. */
export function anomalyAlert(
  key: string,
  exe: string,
  time: number,
  output = `Anomalous read in pid 42 (${exe})`,
): AlertRecord {
  return {
    time,
    rule: "Anomalous system calls",
    priority: "Warning",
    pid: 42,
    exe,
    key,
    output,
    json: {
      time: new Date(time * 1000).toISOString(),
      rule: "Anomalous system calls",
      priority: "Warning",
      output,
      output_fields: { "homeostat.window": ["openat", "read", "mprotect"], "homeostat.profile": key },
    },
  };
}

/** Creates the state directory; returns it and a function removing it. */
export function makeConsoleState(now = 1_700_000_000): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-serve-"));
  const store = StateStore.open(dir, { now: () => now });
  const normal = new PhProfile(HOST_SYMBOLS);
  const s = normal.newStream();
  for (let i = 0; i < 50; i++) normal.step(s, CALLS[i % CALLS.length]!, i);
  normal.normalize();
  const training = new PhProfile(HOST_SYMBOLS);
  training.step(training.newStream(), nr("read"), 0);
  const evil = new PhProfile(HOST_SYMBOLS);
  evil.step(evil.newStream(), nr("write"), 0);
  store.saveProfiles([
    profileRecord(TRUE_KEY, { path: "/usr/bin/true", dev: 1, ino: 2 }, normal),
    profileRecord(FALSE_KEY, { path: "/usr/bin/false", dev: 1, ino: 3 }, training),
    profileRecord(EVIL_KEY, { path: `/tmp/${EVIL_NAME}`, dev: 1, ino: 4 }, evil),
  ]);
  store.saveStaticModels([
    {
      key: TRUE_KEY,
      exe: "/usr/bin/true",
      complete: true,
      syscalls: [...CALLS, nr("mmap"), nr("brk")].sort((a, b) => a - b),
      detail: {},
    },
  ]);
  store.addAlerts([
    anomalyAlert(TRUE_KEY, "/usr/bin/true", now - 7200),
    anomalyAlert(TRUE_KEY, "/usr/bin/true", now - 60),
    anomalyAlert(EVIL_KEY, `/tmp/${EVIL_NAME}`, now - 30, `Anomalous write in pid 43 (/tmp/${EVIL_NAME})`),
  ]);
  store.addActions([
    {
      time: now - 50,
      pid: 42,
      exe: "/usr/bin/true",
      action: "delay",
      outcome: "paused",
      reason: "LFC 3: delayed 80 ms",
      json: {},
    },
  ]);
  const run = store.beginRun({ pid: 4242, backend: "strace", startedAt: now - 3600 });
  store.updateRun(run, { events: 360_000, lost: 12, alerts: 3, endedAt: now - 10, summary: { processed: 360_000 } });
  store.close();
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
