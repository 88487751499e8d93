import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { once } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { WriterLock } from "./writerLock.js";

const dirs: string[] = [];
const fresh = (): string => {
  const d = mkdtempSync(join(tmpdir(), "homeostat-lock-"));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function refusal(dir: string): HomeostatError {
  try {
    WriterLock.acquire(dir).release();
  } catch (err) {
    return err as HomeostatError;
  }
  throw new Error("the second writer was not refused");
}

describe("WriterLock: one watch per state directory", () => {
  it("refuses a second writer, naming the holder's pid, until the first releases", () => {
    const dir = fresh();
    const first = WriterLock.acquire(dir);
    const err = refusal(dir);
    expect(err).toBeInstanceOf(HomeostatError);
    expect(err.code).toBe("E_LOCKED");
    expect(err.oneLine()).toBe(
      `${dir}: the state directory is in use by homeostat watch (pid ${process.pid}); one watch per state directory (--state picks another)`,
    );
    first.release();
    first.release(); // idempotent
    const again = WriterLock.acquire(dir);
    again.release();
  });

  it.skipIf(!existsSync(resolve("dist/store/writerLock.js")))(
    "is released by the kernel when its holder is killed (no stale lock)",
    async () => {
      const dir = fresh();
      const script = `
      import { WriterLock } from ${JSON.stringify(resolve("dist/store/writerLock.js"))};
      // Held in a global: a lock only a collected object knew of would be closed (released) by the collector.
      globalThis.heldLock = WriterLock.acquire(process.argv[1]);
      process.stdout.write("locked\\n");
      setInterval(() => {}, 1 << 30);`;
      const child = spawn(process.execPath, ["--input-type=module", "-e", script, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = once(child, "exit");
      let out = "";
      child.stdout!.setEncoding("utf8");
      for await (const chunk of child.stdout!) {
        out += chunk as string;
        if (out.includes("locked\n")) break;
      }
      expect(out).toContain("locked");
      expect(refusal(dir).oneLine()).toContain(`(pid ${child.pid})`);
      child.kill("SIGKILL");
      await exited;
      const lock = WriterLock.acquire(dir);
      lock.release();
    },
  );
});
