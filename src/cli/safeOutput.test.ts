// The CLI's file outputs end to end: every command that writes a file refuses a device, a FIFO, a directory and a
// symbolic link at its output path (exit 2, one line naming the path) before any work, and leaves the thing there
// as it was; permission and space problems are the machine's (exit 3) and leave no partial file. Each case spawns
// bin/homeostat. Cases that need root (mknod, mount, chattr, dropping privileges) skip with a printed reason.

import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN } from "../testing/paths.js";

const dir = mkdtempSync(join(tmpdir(), "homeostat-safe-output-"));
chmodSync(dir, 0o755); // the unprivileged case reads the trace from here
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const trace = join(dir, "t.strace");
writeFileSync(trace, 'read(0, "", 1) = 0\nwrite(1, "x", 1) = 1\nclose(0) = 0\n');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[], prefix: readonly string[] = []): Run {
  const argv = [...prefix, process.execPath, BIN, ...args];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const isRoot = process.getuid?.() === 0;

/** Whether a command runs (status 0), to decide what this machine lets a test do. */
function works(cmd: string, args: readonly string[]): boolean {
  return spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
}

/** What must not change about a path a command refused: its type, device numbers, inode, size and link target. */
function identity(p: string): Record<string, unknown> {
  const st: Stats = lstatSync(p);
  return {
    mode: st.mode,
    rdev: st.rdev,
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    link: st.isSymbolicLink() ? readlinkSync(p) : undefined,
  };
}

/** Exactly one stderr line: `homeostat: error [CODE]: PATH: ...` matching `message`. */
function expectOneLine(r: Run, exit: number, code: string, path: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(exit);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`homeostat: error [${code}]: ${path}: `), lines[0]).toBe(true);
  expect(lines[0]).toMatch(message);
}

function partialsIn(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.includes(".partial-"));
}

/** Every command that writes a file, with `path` as its output. */
function writers(path: string): [string, string[]][] {
  return [
    ["train -o", ["train", "-m", "stide:k=2", "-o", path, trace]],
    ["convert -o", ["convert", "-o", path, trace]],
    ["eval --json", ["eval", "--train", trace, "--normal", trace, "--attack", trace, "--json", path]],
    ["eval --report", ["eval", "--train", trace, "--normal", trace, "--attack", trace, "--report", path]],
    ["record -o", ["record", "-o", path, "--", "true"]],
    ["static -o", ["static", "-o", path, "/bin/true"]],
    ["static --seccomp", ["static", "--seccomp", path, "/bin/true"]],
    ["demo --report", ["demo", "--report", path]],
    ["profiles export -o", ["profiles", "export", "--state", join(dir, "state"), "-o", path, "cat"]],
    ["watch --alerts", ["watch", "--state", join(dir, "state"), "--alerts", path, "--duration", "1"]],
  ];
}

describe("outputs that are not regular files are refused, and left as they were", () => {
  it("a directory: every command, exit 2 before any work", () => {
    const d = join(dir, "a-dir");
    mkdirSync(d);
    for (const [name, args] of writers(d)) {
      const r = run(args);
      expectOneLine(r, 2, "E_USAGE", d, /is a directory/);
      expect(readdirSync(d), name).toEqual([]);
    }
  });

  it("a symlink to /dev/null: refused rather than followed or replaced, by every command", () => {
    const link = join(dir, "null-link");
    symlinkSync("/dev/null", link);
    const before = identity(link);
    for (const [name, args] of writers(link)) {
      expectOneLine(run(args), 2, "E_USAGE", link, /is a symbolic link: outputs are not written through links/);
      expect(identity(link), name).toEqual(before);
    }
    expect(lstatSync("/dev/null").isCharacterDevice()).toBe(true);
    expect(partialsIn(dir)).toEqual([]);
  });

  it.skipIf(!works("mkfifo", ["--version"]))("a FIFO", () => {
    const fifo = join(dir, "a-fifo");
    expect(works("mkfifo", [fifo])).toBe(true);
    const r = run(["train", "-m", "stide:k=2", "-o", fifo, trace]);
    expectOneLine(r, 2, "E_USAGE", fifo, /is a FIFO/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  const canMknod = isRoot && works("mknod", ["--version"]);
  if (!canMknod) console.log("skipped: the character-device cases need root and mknod");
  it.skipIf(!canMknod)("a character device made with mknod stays a device, for every command", () => {
    const node = join(dir, "n");
    expect(works("mknod", [node, "c", "1", "3"])).toBe(true);
    const before = identity(node);
    for (const [name, args] of writers(node)) {
      expectOneLine(run(args), 2, "E_USAGE", node, /is a character device: outputs are written only to regular files/);
      expect(identity(node), name).toEqual(before);
      expect(lstatSync(node).isCharacterDevice()).toBe(true);
    }
    expect(partialsIn(dir)).toEqual([]);
  });

  it("/dev/full is untouched, and no partial file is left in /dev", () => {
    const before = identity("/dev/full");
    const r = run(["train", "-m", "stide:k=2", "-o", "/dev/full", trace]);
    expectOneLine(r, 2, "E_USAGE", "/dev/full", /is a character device/);
    expect(identity("/dev/full")).toEqual(before);
    expect(lstatSync("/dev/full").isCharacterDevice()).toBe(true);
    expect(partialsIn("/dev")).toEqual([]);
  });

  it("is checked before the work: a bad output is reported even when the input does not exist", () => {
    const d = join(dir, "early-dir");
    mkdirSync(d);
    const r = run(["train", "-m", "stide:k=2", "-o", d, join(dir, "no-such-input")]);
    expectOneLine(r, 2, "E_USAGE", d, /is a directory/);
  });

  it("a missing folder is E_NOT_FOUND (exit 2); a regular file is replaced whole", () => {
    const missing = join(dir, "no-such-folder", "p.profile");
    expectOneLine(run(["train", "-m", "stide:k=2", "-o", missing, trace]), 2, "E_NOT_FOUND", missing, /does not exist/);
    const out = join(dir, "replaced.profile");
    writeFileSync(out, "old");
    expect(run(["train", "-m", "stide:k=2", "-o", out, trace]).code).toBe(0);
    expect(readFileSync(out).subarray(0, 7).toString()).toBe("HSTPROF");
    expect(partialsIn(dir)).toEqual([]);
  });
});

describe("permission and space problems are the environment's: exit 3, nothing left behind", () => {
  /** Mounts a tmpfs with `options` on a new folder, or returns undefined when this machine does not allow it. */
  function tmpfs(name: string, options: string): string | undefined {
    const mnt = join(dir, name);
    mkdirSync(mnt);
    return isRoot && works("mount", ["-t", "tmpfs", "-o", options, "tmpfs", mnt]) ? mnt : undefined;
  }

  it("a read-only file system (tmpfs mounted ro): E_PERMISSION", (ctx) => {
    const mnt = tmpfs("ro", "ro,size=64k");
    if (mnt === undefined) {
      console.log("skipped: mounting a read-only tmpfs needs root (CAP_SYS_ADMIN)");
      return ctx.skip();
    }
    try {
      const out = join(mnt, "p.profile");
      const r = run(["train", "-m", "stide:k=2", "-o", out, trace]);
      expectOneLine(r, 3, "E_PERMISSION", out, /read-only file system \(EROFS\)/);
      expect(readdirSync(mnt)).toEqual([]);
    } finally {
      works("umount", [mnt]);
    }
  });

  it("an immutable folder (chattr +i): E_PERMISSION, its file unchanged", (ctx) => {
    const folder = join(dir, "immutable");
    mkdirSync(folder);
    const out = join(folder, "p.profile");
    writeFileSync(out, "keep");
    if (!isRoot || !works("chattr", ["+i", folder])) {
      console.log("skipped: chattr +i needs root and a file system with inode flags");
      return ctx.skip();
    }
    try {
      const r = run(["train", "-m", "stide:k=2", "-o", out, trace]);
      expectOneLine(r, 3, "E_PERMISSION", out, /operation not permitted \(EPERM\)/);
    } finally {
      works("chattr", ["-i", folder]);
    }
    expect(readFileSync(out, "utf8")).toBe("keep");
    expect(partialsIn(folder)).toEqual([]);
  });

  it("a folder the user may not write (run as nobody): E_PERMISSION", (ctx) => {
    const asNobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];
    if (!isRoot || !works(asNobody[0]!, [...asNobody.slice(1), process.execPath, "-e", "0"])) {
      console.log("skipped: running as nobody needs root and setpriv");
      return ctx.skip();
    }
    const folder = join(dir, "root-only");
    mkdirSync(folder, { mode: 0o755 });
    const out = join(folder, "p.profile");
    const r = run(["train", "-m", "stide:k=2", "-o", out, trace], asNobody);
    expectOneLine(r, 3, "E_PERMISSION", out, /permission denied \(EACCES\)/);
    expect(readdirSync(folder)).toEqual([]);
  });

  it("a full file system (a 64 KiB tmpfs): E_NO_SPACE, the existing file intact, no partial file", (ctx) => {
    const mnt = tmpfs("tiny", "size=64k");
    if (mnt === undefined) {
      console.log("skipped: mounting a small tmpfs needs root (CAP_SYS_ADMIN)");
      return ctx.skip();
    }
    try {
      // 20,000 distinct calls: a profile of a few hundred KiB, past what the file system holds.
      const big = join(dir, "big.strace");
      writeFileSync(big, Array.from({ length: 20_000 }, (_, i) => `sc${i}(1) = 0\n`).join(""));
      const out = join(mnt, "p.profile");
      writeFileSync(out, "keep");
      const r = run(["train", "-m", "stide:k=2", "-o", out, big]);
      expectOneLine(r, 3, "E_NO_SPACE", out, /no space left on the device \(ENOSPC\)/);
      expect(readFileSync(out, "utf8")).toBe("keep");
      expect(partialsIn(mnt)).toEqual([]);
      expect(existsSync(out)).toBe(true);
    } finally {
      works("umount", [mnt]);
    }
  });
});
