import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import {
  checkOutputPath,
  commitOutput,
  openRegularForAppending,
  openRegularForWriting,
  outputError,
  partialPathOf,
} from "./outputFile.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The HomeostatError `fn` throws; fails the test when it returns. */
function thrown(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected a throw");
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed`), { code });
}

const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

describe("checkOutputPath", () => {
  it("accepts a new file and an existing regular file", () => {
    expect(() => checkOutputPath(join(dir, "new.out"))).not.toThrow();
    const existing = join(dir, "existing.out");
    writeFileSync(existing, "x");
    expect(() => checkOutputPath(existing)).not.toThrow();
  });

  it("refuses a directory, a symlink (even to a regular file) and an empty path, as E_USAGE naming the path", () => {
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    const target = join(dir, "target");
    writeFileSync(target, "keep");
    const link = join(dir, "link");
    symlinkSync(target, link);
    const cases: [string, RegExp][] = [
      [sub, /is a directory/],
      [`${sub}/`, /is a directory/],
      [link, /is a symbolic link: outputs are not written through links/],
    ];
    for (const [p, message] of cases) {
      const err = thrown(() => checkOutputPath(p));
      expect(err.code).toBe("E_USAGE");
      expect(err.location.file).toBe(p);
      expect(err.message).toMatch(message);
    }
    expect(thrown(() => checkOutputPath("")).code).toBe("E_USAGE");
    expect(readFileSync(target, "utf8")).toBe("keep");
  });

  it.skipIf(!hasMkfifo)("refuses a FIFO and a character device", () => {
    const fifo = join(dir, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    expect(thrown(() => checkOutputPath(fifo)).message).toMatch(/is a FIFO/);
    expect(thrown(() => checkOutputPath("/dev/null")).message).toMatch(/is a character device/);
  });

  it("a missing folder is E_NOT_FOUND, a file as a folder E_USAGE", () => {
    expect(thrown(() => checkOutputPath(join(dir, "no", "such", "x"))).code).toBe("E_NOT_FOUND");
    const file = join(dir, "plain");
    writeFileSync(file, "");
    expect(thrown(() => checkOutputPath(join(file, "x"))).code).toBe("E_USAGE");
  });
});

describe("openRegularForWriting", () => {
  it("creates, or truncates a regular file", () => {
    const p = join(dir, "w1");
    writeFileSync(p, "old contents");
    const fd = openRegularForWriting(p);
    writeSync(fd, "new");
    closeSync(fd);
    expect(readFileSync(p, "utf8")).toBe("new");
  });

  it("never writes through a symlink, nor truncates a file with other hard links", () => {
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep");
    const link = join(dir, "w2.partial");
    symlinkSync(victim, link);
    expect(thrown(() => openRegularForWriting(link)).message).toMatch(/symbolic link/);
    const hard = join(dir, "w3.partial");
    linkSync(victim, hard);
    expect(thrown(() => openRegularForWriting(hard)).message).toMatch(/hard links/);
    expect(readFileSync(victim, "utf8")).toBe("keep");
  });

  it.skipIf(!hasMkfifo)("refuses a FIFO without waiting for a reader", () => {
    const fifo = join(dir, "w4.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // Without a reader, O_NONBLOCK makes the open fail at once (ENXIO) instead of blocking.
    expect(thrown(() => openRegularForWriting(fifo)).code).not.toBe("E_PERMISSION");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});

describe("commitOutput", () => {
  it("renames the partial file over a regular file", () => {
    const out = join(dir, "c1");
    writeFileSync(out, "old");
    const partial = partialPathOf(out);
    writeFileSync(partial, "new");
    commitOutput(partial, out);
    expect(readFileSync(out, "utf8")).toBe("new");
    expect(existsSync(partial)).toBe(false);
  });

  it("checks the target again: something put there since the start is refused, left alone, and the partial removed", () => {
    const out = join(dir, "c2");
    const partial = partialPathOf(out);
    writeFileSync(partial, "new");
    mkdirSync(out);
    expect(thrown(() => commitOutput(partial, out)).message).toMatch(/is a directory/);
    expect(lstatSync(out).isDirectory()).toBe(true);
    expect(existsSync(partial)).toBe(false);

    const out2 = join(dir, "c3");
    symlinkSync("/dev/null", out2);
    writeFileSync(partialPathOf(out2), "new");
    expect(thrown(() => commitOutput(partialPathOf(out2), out2)).message).toMatch(/symbolic link/);
    expect(lstatSync(out2).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith("c3.partial"))).toEqual([]);
  });
});

describe("openRegularForAppending", () => {
  it("appends to a regular file and refuses a symlink", () => {
    const log = join(dir, "alerts.log");
    writeFileSync(log, "a\n");
    const fd = openRegularForAppending(log);
    writeSync(fd, "b\n");
    closeSync(fd);
    expect(readFileSync(log, "utf8")).toBe("a\nb\n");
    const link = join(dir, "alerts.link");
    symlinkSync(log, link);
    expect(thrown(() => openRegularForAppending(link)).code).toBe("E_USAGE");
  });
});

describe("outputError: one code per failure class", () => {
  it("maps errno codes to typed errors naming the output", () => {
    const cases: [string, string][] = [
      ["EACCES", "E_PERMISSION"],
      ["EPERM", "E_PERMISSION"],
      ["EROFS", "E_PERMISSION"],
      ["ENOSPC", "E_NO_SPACE"],
      ["EDQUOT", "E_NO_SPACE"],
      ["ENOENT", "E_NOT_FOUND"],
      ["EISDIR", "E_USAGE"],
      ["ENOTDIR", "E_USAGE"],
      ["EIO", "E_IO"],
    ];
    for (const [code, expected] of cases) {
      const err = outputError(errno(code), "out.bin");
      expect(err.code, code).toBe(expected);
      expect(err.location.file).toBe("out.bin");
      expect(err.oneLine()).not.toContain("\n");
    }
    const typed = new HomeostatError("E_USAGE", "x");
    expect(outputError(typed, "out.bin")).toBe(typed);
  });
});
