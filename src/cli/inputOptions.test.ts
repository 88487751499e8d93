// Nothing a user points homeostat at may exhaust the machine: devices, FIFOs with endless writers, symbolic links to
// them in a folder, and inputs past --max-input-bytes each end quickly in one error line and exit 2. The commands
// run as whole processes (bin/homeostat); every wait is on a process event, with a kill timer only as a guard.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../ingest/inputLimits.js";
import { BIN } from "../testing/paths.js";
import { DEFAULT_MAX_INPUT_BYTES } from "./inputOptions.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI to its exit; the guard kills it if it outlives `guardMs` (a failure, not a wait). */
function run(args: string[], guardMs = 15_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d.slice(0, 4096)));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d.slice(0, 4096)));
    const guard = setTimeout(() => child.kill("SIGKILL"), guardMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** One error line naming `file`, exit 2, within a second. */
function expectRefused(r: Run, file: string, code: string, what: RegExp): void {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`[${code}]`);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(what);
  expect(r.code).toBe(2);
  expect(r.ms).toBeLessThanOrEqual(1000);
}

let dir: string;
let profile: string;
let writer: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "homeostat-hostile-"));
  writeFileSync(path.join(dir, "normal.txt"), "3 4 5 6 3 4 5 6 3 4 5 6 ");
  profile = path.join(dir, "stide.profile");
  const r = spawnSync(process.execPath, [BIN, "train", "-m", "stide:k=3", "-o", profile, path.join(dir, "normal.txt")]);
  expect(r.status).toBe(0);
});

afterAll(() => {
  if (writer !== undefined && writer.exitCode === null) writer.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const normal = (): string => path.join(dir, "normal.txt");

// Lenient, forced formats made these read forever before: nothing in zeros or random bytes ends a line in error.
const COMMANDS: [string, (input: string) => string[]][] = [
  ["inspect", (input) => ["inspect", "--format", "unm", "--lenient", input]],
  ["score", (input) => ["score", "-p", profile, "--format", "adfa", "--lenient", input]],
  ["train", (input) => ["train", "-m", "stide", "-o", path.join(dir, "t.profile"), "--lenient", "-f", "unm", input]],
  ["convert", (input) => ["convert", "-o", path.join(dir, "c.hstr"), "--lenient", "--format", "unm", input]],
  [
    "eval --normal",
    (input) => ["eval", "-f", "adfa", "--lenient", "--train", normal(), "--normal", input, "--attack", normal()],
  ],
];

describe("devices and FIFOs as input", () => {
  for (const [name, argv] of COMMANDS) {
    it(`${name} refuses /dev/zero and /dev/urandom in one line, exit 2, within a second`, async () => {
      expectRefused(await run(argv("/dev/zero")), "/dev/zero", "E_FORMAT", /character device/);
      expectRefused(await run(argv("/dev/urandom")), "/dev/urandom", "E_FORMAT", /character device/);
    });
  }

  it("refuses a FIFO whose writer never stops, without opening it", async () => {
    const fifo = path.join(dir, "calls.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // The writer blocks until a reader opens the FIFO, then writes forever: it must never get one.
    writer = spawn("sh", ["-c", `exec yes "6 6 6" > "${fifo}"`], { stdio: "ignore" });
    expectRefused(await run(["inspect", "--format", "adfa", fifo]), fifo, "E_FORMAT", /FIFO/);
    expectRefused(await run(["score", "-p", profile, fifo]), fifo, "E_FORMAT", /FIFO/);
    expect(writer.exitCode).toBeNull();
    writer.kill("SIGKILL");
  });

  it("refuses a symbolic link to /dev/zero met in a folder", async () => {
    const folder = path.join(dir, "linked");
    mkdirSync(folder);
    writeFileSync(path.join(folder, "a.txt"), "3 4 5 6 ");
    symlinkSync("/dev/zero", path.join(folder, "z.txt"));
    const z = path.join(folder, "z.txt");
    expectRefused(await run(["inspect", "--format", "unm", "--lenient", folder]), z, "E_FORMAT", /character device/);
    expectRefused(await run(["score", "-p", profile, "-f", "adfa", "--lenient", folder]), z, "E_FORMAT", /device/);
  });
});

describe("--max-input-bytes", () => {
  it("bounds the bytes read from all inputs together: E_LIMIT naming the file past the limit", async () => {
    const a = path.join(dir, "a.txt");
    const b = path.join(dir, "b.txt");
    writeFileSync(a, "3 4 5 6 ".repeat(50)); // 400 bytes
    writeFileSync(b, "3 4 5 6 ".repeat(50));
    expect((await run(["inspect", "--max-input-bytes", "800", a, b])).code).toBe(0);
    const over = await run(["inspect", "--max-input-bytes", "799", a, b]);
    expectRefused(over, b, "E_LIMIT", /799 bytes/);
    expectRefused(await run(["score", "-p", profile, "--max-input-bytes", "100", a]), a, "E_LIMIT", /100 bytes/);
  });

  it("defaults to the library's limit, 64 GiB", () => {
    expect(DEFAULT_MAX_INPUT_BYTES).toBe(DEFAULT_LIMITS.maxInputBytes);
    expect(DEFAULT_MAX_INPUT_BYTES).toBe(64 * 1024 ** 3);
  });

  it("parses the limit strictly", async () => {
    for (const bad of ["1e9", "-1", "0", "64GiB", " 5"]) {
      const r = await run(["inspect", "--max-input-bytes", bad, path.join(dir, "normal.txt")]);
      expect(r.stderr).toMatch(/\[E_USAGE\].*--max-input-bytes/);
      expect(r.code).toBe(2);
    }
  });
});

describe("--max-held-calls", () => {
  it("bounds the calls a model that needs whole traces holds (hmm), and does not touch one that streams", async () => {
    const input = normal(); // 12 calls
    expectRefused(
      await run(["train", "-m", "hmm", "-o", path.join(dir, "h.profile"), "--max-held-calls", "11", input]),
      input,
      "E_LIMIT",
      /more than 11 calls to hold in memory \(the hmm model trains on whole traces\)/,
    );
    expect(
      (await run(["train", "-m", "hmm:states=2", "-o", path.join(dir, "h.profile"), "--max-held-calls", "12", input]))
        .code,
    ).toBe(0);
    expect(
      (await run(["train", "-m", "stide", "-o", path.join(dir, "s.profile"), "--max-held-calls", "1", input])).code,
    ).toBe(0);
  });

  it("bounds the calls eval holds over all its inputs together", async () => {
    const input = normal(); // 12 calls, given three times
    const args = ["eval", "--train", input, "--normal", input, "--attack", input, "-m", "stide", "--json", "-"];
    const over = await run([...args, "--max-held-calls", "35"]);
    expectRefused(over, input, "E_LIMIT", /more than 35 calls to hold in memory \(eval holds every trace/);
  });
});

// 24 million calls in one trace, a few hundred kilobytes gzipped: score and train used to hold the whole trace
// (and score a float64 per call besides), hundreds of megabytes; streaming keeps them near their start-up size.
describe.skipIf(!existsSync("/usr/bin/time"))("one long gzipped trace", () => {
  const CALLS = 24 * 1024 * 1024;
  const gz = (): string => path.join(dir, "long.txt.gz");

  beforeAll(async () => {
    const repeats = 32_768; // of 8 calls: a line of 262,144 calls
    const line = Buffer.from(`${"6 6 3 4 5 6 195 6 ".repeat(repeats)}\n`);
    const lines = Math.ceil(CALLS / (8 * repeats));
    async function* text(): AsyncGenerator<Buffer> {
      for (let i = 0; i < lines; i++) yield line;
    }
    await pipeline(text(), createGzip({ level: 1 }), createWriteStream(gz()));
  });

  /** Peak resident memory of a whole run, in MB (GNU time's %M), and its exit code. */
  function peak(args: string[]): { mb: number; code: number | null; stderr: string } {
    const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, BIN, ...args], { encoding: "utf8" });
    const lines = r.stderr.trim().split("\n");
    return { mb: Number(lines[lines.length - 1]) / 1024, code: r.status, stderr: r.stderr };
  }

  it("score and train it in bounded memory", () => {
    const profile = path.join(dir, "long.profile");
    const train = peak(["train", "-m", "stide", "-o", profile, "--json", gz()]);
    expect(train.code, train.stderr).toBe(0);
    const score = peak(["score", "-p", profile, "--json", gz()]);
    expect(score.code, score.stderr).toBe(0);
    expect(train.mb).toBeLessThan(150);
    expect(score.mb).toBeLessThan(150);
  });
});
