// A full disk under `watch`'s state database: nothing already saved is lost, and watch says what it could not save.
// The disk is a small tmpfs (root only), filled by a file after the store is open.
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { StateStore } from "../store/stateStore.js";
import { startHostWatch } from "./hostWatch.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-diskfull-"));
const mounted =
  process.getuid?.() === 0 && spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]).status === 0;
const why = !mounted ? "needs root to mount a small tmpfs" : straceUnavailableReason();
if (why !== undefined) console.log(`skipping the full-disk test: ${why}`);
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

describe.skipIf(why !== undefined)("watch on a full disk", () => {
  it("keeps every profile saved before, and fails its last save with one line saying how many were not saved", async () => {
    const state = join(dir, "state");
    mkdirSync(state);
    const first = StateStore.open(state);
    await startHostWatch({ backend: "strace", command: ["true"], store: first, programOutput: "ignore" }).done;
    const before = first.listProfiles();
    first.close();
    expect(before.length).toBeGreaterThan(0);

    const store = StateStore.open(state);
    const filler = fill(dir);
    let error: unknown;
    try {
      await startHostWatch({ backend: "strace", command: ["ls", "/"], store, programOutput: "ignore" }).done;
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HomeostatError);
    expect((error as HomeostatError).code).toBe("E_IO");
    expect((error as HomeostatError).oneLine()).toMatch(
      /homeostat\.db: the disk is full: [1-9]\d* profiles? changed since the last save could not be saved; everything saved before is intact$/,
    );
    store.close();

    rmSync(filler);
    const after = StateStore.open(state, { readonly: true });
    const rows = after.listProfiles();
    after.close();
    for (const b of before)
      expect(rows.find((r) => r.key === b.key)).toMatchObject({ version: b.version, trainCount: b.trainCount });
  }, 60_000);

  it("goes on watching while saves fail, says so once, and saves everything once there is room again", async () => {
    const state = join(dir, "state2");
    mkdirSync(state);
    const store = StateStore.open(state);
    const filler = fill(dir);
    const flag = join(dir, "flag");
    const rules: string[] = [];
    // The program runs until the test has seen saves fail and then resume (events, not time, end it). It runs `ls`
    // once before looking at the flag: on a loaded machine both alerts can come before the shell's first look.
    const watch = startHostWatch({
      backend: "strace",
      command: ["sh", "-c", `ls / >/dev/null; while [ ! -e ${flag} ]; do ls / >/dev/null; done`],
      store,
      programOutput: "ignore",
      saveIntervalMs: 20,
      onAlert: (a) => {
        rules.push(a.rule);
        if (a.rule === "homeostat store full: profiles not saved") rmSync(filler);
        if (a.rule === "homeostat store saves resumed") closeSync(openSync(flag, "w"));
      },
    });
    const summary = await watch.done;
    store.close();
    expect(rules.filter((r) => r.startsWith("homeostat store"))).toEqual([
      "homeostat store full: profiles not saved",
      "homeostat store saves resumed",
    ]);
    const reader = StateStore.open(state, { readonly: true });
    const saved = reader.listProfiles();
    reader.close();
    expect(saved.map((p) => p.exe)).toEqual(expect.arrayContaining(["/usr/bin/ls"]));
    expect(summary.saves).toBeGreaterThan(1);
  }, 60_000);
});
