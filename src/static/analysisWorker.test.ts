// The static-analysis worker of `homeostat watch`: a real worker thread running the build (dist/, made by `npm run
// build`, as CI does before the tests) on real binaries.
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { analysisWorkerScript, sameFile, StaticAnalysisWorker, stampOf } from "./analysisWorker.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-analysis-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXIT_GROUP = 231;

function jobFor(path: string) {
  const st = statSync(path);
  return { path, dev: st.dev, ino: st.ino };
}

describe("StaticAnalysisWorker", () => {
  it("finds the built worker script beside src/ under vitest", () => {
    expect(fileURLToPath(analysisWorkerScript())).toMatch(/[\\/]dist[\\/]static[\\/]analysisWorker\.js$/);
  });

  it("analyses /bin/true in a worker thread: a set with exit_group, stamps of every file, the cache filled", async () => {
    const cacheDir = join(dir, "cache");
    const worker = new StaticAnalysisWorker({ cacheDir });
    try {
      const cold = await worker.analyse(jobFor("/bin/true"));
      expect(cold.ok, JSON.stringify(cold)).toBe(true);
      if (!cold.ok) return;
      expect(cold.model.syscalls).toContain(EXIT_GROUP);
      expect(cold.model.names).toContain("exit_group");
      expect(cold.model.syscalls).toEqual([...cold.model.syscalls].sort((a, b) => a - b));
      expect(cold.model.files[0]!.path).toBe("/bin/true");
      expect(cold.model.files.length).toBeGreaterThanOrEqual(2); // the executable and at least libc
      expect(cold.model.files.every(sameFile)).toBe(true);
      const again = await worker.analyse(jobFor("/bin/true"));
      expect(again.ok && again.model.objects.filter((o) => o.role !== "vdso").every((o) => o.cached)).toBe(true);
      expect(worker.stats).toMatchObject({ submitted: 2, analysed: 2, failed: 0, overflow: 0 });
    } finally {
      await worker.close();
    }
  });

  it("fails one job, not the worker: not ELF, a file that is not the one that ran", async () => {
    const worker = new StaticAnalysisWorker();
    try {
      const text = join(dir, "notes.txt");
      writeFileSync(text, "not a program\n");
      const notElf = await worker.analyse(jobFor(text));
      expect(notElf.ok).toBe(false);
      if (!notElf.ok) expect(notElf.code).toBe("E_FORMAT");
      const moved = await worker.analyse({ ...jobFor("/bin/true"), ino: 1 });
      expect(moved.ok).toBe(false);
      if (!moved.ok) expect(moved.message).toMatch(/not the one that ran/);
      const gone = await worker.analyse({ path: join(dir, "nothing"), dev: 1, ino: 2 });
      expect(gone.ok).toBe(false);
      if (!gone.ok) expect(gone.code).toBe("E_NOT_FOUND");
      expect(worker.stats).toMatchObject({ failed: 3, crashed: 0 });
    } finally {
      await worker.close();
    }
  });

  it("bounds its queue: a job beyond maxPending is refused and counted; drain waits for the rest", async () => {
    const worker = new StaticAnalysisWorker({ maxPending: 1 });
    try {
      const outcomes: boolean[] = [];
      const accepted = [0, 1, 2].map(() => worker.submit(jobFor("/bin/true"), (o) => outcomes.push(o.ok)));
      expect(accepted).toEqual([true, true, false]); // one running, one waiting, one refused
      expect(worker.stats.overflow).toBe(1);
      expect(await worker.drain(60_000)).toBe(true);
      expect(outcomes).toEqual([true, true]);
      expect(worker.pending).toBe(0);
    } finally {
      await worker.close();
    }
  });

  it("an analysis over its time limit fails alone: the worker is replaced, and the next job runs", async () => {
    const worker = new StaticAnalysisWorker({ timeoutMs: 1 });
    try {
      const slow = await worker.analyse(jobFor("/bin/true"));
      expect(slow).toMatchObject({ ok: false, code: "E_LIMIT" });
      const next = await worker.analyse(jobFor("/bin/true"));
      expect(next.ok).toBe(false);
      expect(worker.stats).toMatchObject({ submitted: 2, failed: 2, crashed: 2 });
      expect(await worker.drain(1000)).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it("a stamp notices a file rewritten in place (same inode) or replaced", () => {
    const file = join(dir, "prog");
    copyFileSync("/bin/true", file);
    const stamp = stampOf(file);
    expect(sameFile(stamp)).toBe(true);
    writeFileSync(file, "rewritten, longer than before ".repeat(4096));
    expect(statSync(file).ino).toBe(stamp.ino);
    expect(sameFile(stamp)).toBe(false);
    expect(sameFile({ ...stamp, path: join(dir, "absent") })).toBe(false);
  });
});
