import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { type InputEntry, isNonTraceName, listInputs, type SkippedInput } from "./inputs.js";

let dir: string;

async function collect(
  paths: string[],
  limits = {},
): Promise<{ entries: { path: string; parts: string[]; text: string; sidecar?: string }[]; skipped: SkippedInput[] }> {
  const skipped: SkippedInput[] = [];
  const entries: { path: string; parts: string[]; text: string; sidecar?: string }[] = [];
  for await (const e of listInputs(paths, { limits, onSkip: (s) => skipped.push(s) })) {
    entries.push({
      path: e.path,
      parts: e.parts,
      text: await readAll(e),
      ...(e.sidecar ? { sidecar: e.sidecar.text } : {}),
    });
  }
  return { entries, skipped };
}

async function readAll(e: InputEntry): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of e.open()) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

async function errorOf(p: Promise<unknown>): Promise<HomeostatError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HomeostatError) return err;
    throw err;
  }
  throw new Error("expected a HomeostatError");
}

function sh(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: "ignore" });
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "homeostat-inputs-"));
  // A small tree in ADFA-LD's layout, with documentation beside it.
  const data = path.join(dir, "data");
  mkdirSync(path.join(data, "Training_Data_Master"), { recursive: true });
  mkdirSync(path.join(data, "Attack_Data_Master", "Adduser_1"), { recursive: true });
  writeFileSync(path.join(data, "Training_Data_Master", "UTD-0001.txt"), "3 4 5 6 ");
  writeFileSync(path.join(data, "Training_Data_Master", "UTD-0002.txt"), "5 3 3 6 ");
  writeFileSync(path.join(data, "Attack_Data_Master", "Adduser_1", "UAD-Adduser-1-1.txt"), "11 3 4 ");
  writeFileSync(path.join(data, "README.md"), "# about\n");
  writeFileSync(path.join(data, "SHA256SUMS"), "x  y\n");
  writeFileSync(path.join(data, ".DS_Store"), "junk");
  sh("tar", ["cf", "../data.tar", "Training_Data_Master", "Attack_Data_Master"], data);
  sh("tar", ["czf", "../data.tar.gz", "Training_Data_Master", "Attack_Data_Master"], data);
  sh("zip", ["-qr", "../data.zip", "Training_Data_Master", "Attack_Data_Master"], data);
  writeFileSync(path.join(dir, "single.txt"), "1 2 3 ");
  sh("gzip", ["-k", "single.txt"], dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("listInputs", () => {
  const expected = [
    ["Attack_Data_Master", "Adduser_1", "UAD-Adduser-1-1.txt", "11 3 4 "],
    ["Training_Data_Master", "UTD-0001.txt", "3 4 5 6 "],
    ["Training_Data_Master", "UTD-0002.txt", "5 3 3 6 "],
  ];

  it("walks a folder in name order, skipping documentation and hidden files", async () => {
    const { entries, skipped } = await collect([path.join(dir, "data")]);
    expect(entries.map((e) => [...e.parts, e.text])).toEqual(expected);
    expect(skipped.map((s) => path.basename(s.path)).sort()).toEqual(["README.md", "SHA256SUMS"]);
  });

  for (const archive of ["data.tar", "data.tar.gz", "data.zip"]) {
    it(`reads ${archive} without unpacking, giving the same members`, async () => {
      // tar members come in archive order (a stream cannot be sorted without buffering it); zip is sorted.
      const { entries } = await collect([path.join(dir, archive)]);
      const got = entries.map((e) => [...e.parts.slice(1), e.text]).sort((a, b) => (a.join() < b.join() ? -1 : 1));
      expect(got).toEqual(expected);
      expect(entries.map((e) => e.path)).toContain(`${path.join(dir, archive)}:${expected[0]!.slice(0, 3).join("/")}`);
    });
  }

  it("reads a plain .gz file as one entry named without .gz", async () => {
    const { entries } = await collect([path.join(dir, "single.txt.gz")]);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.text).toBe("1 2 3 ");
    expect(entries[0]!.parts).toEqual(["single.txt"]);
  });

  it("skips an archive whose content is already extracted beside it", async () => {
    const both = path.join(dir, "both");
    mkdirSync(both);
    sh("cp", ["-r", path.join(dir, "data", "Training_Data_Master"), both], dir);
    sh("cp", [path.join(dir, "data.tar.gz"), path.join(both, "data.tar.gz")], dir);
    const { entries, skipped } = await collect([both]);
    expect(entries.map((e) => e.parts.join("/"))).toEqual([
      "Training_Data_Master/UTD-0001.txt",
      "Training_Data_Master/UTD-0002.txt",
    ]);
    expect(skipped.map((s) => path.basename(s.path))).toEqual(["data.tar.gz"]);
  });

  it("reads a zip nested in a tar, and attaches a .json sidecar", async () => {
    const nest = path.join(dir, "nest");
    mkdirSync(path.join(nest, "rec"), { recursive: true });
    writeFileSync(path.join(nest, "rec", "r1.sc"), "payload");
    writeFileSync(path.join(nest, "rec", "r1.json"), '{"exploit":false}');
    sh("zip", ["-qj", "../r1.zip", "rec/r1.sc", "rec/r1.json"], nest);
    sh("tar", ["cf", "outer.tar", "r1.zip"], dir);
    const { entries } = await collect([path.join(dir, "outer.tar")]);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.path).toBe(`${path.join(dir, "outer.tar")}:r1.zip:r1.sc`);
    expect(entries[0]!.text).toBe("payload");
    expect(entries[0]!.sidecar).toBe('{"exploit":false}');
  });

  it("reports a missing path as E_NOT_FOUND naming it", async () => {
    const err = await errorOf(collect([path.join(dir, "nope")]));
    expect(err.code).toBe("E_NOT_FOUND");
    expect(err.location.file).toBe(path.join(dir, "nope"));
  });

  it("reports a truncated gzip as E_ARCHIVE naming the file", async () => {
    const big = path.join(dir, "big.txt");
    writeFileSync(big, Array.from({ length: 50_000 }, (_, i) => String(i % 300)).join(" "));
    sh("gzip", ["-k", "big.txt"], dir);
    const gz = `${big}.gz`;
    truncateSync(gz, Math.floor(statSync(gz).size / 2));
    const err = await errorOf(collect([gz]));
    expect(err.code).toBe("E_ARCHIVE");
    expect(err.location.file).toBe(gz);
  });

  it("reports a truncated .tar.gz and a garbage zip as E_ARCHIVE", async () => {
    const tgz = path.join(dir, "cut.tar.gz");
    writeFileSync(tgz, readFileSync(path.join(dir, "data.tar.gz")).subarray(0, 60));
    expect((await errorOf(collect([tgz]))).code).toBe("E_ARCHIVE");
    const zip = path.join(dir, "garbage.zip");
    writeFileSync(zip, Buffer.from("PK\u0003\u0004 this is not really a zip file at all"));
    expect((await errorOf(collect([zip]))).code).toBe("E_ARCHIVE");
  });

  it("refuses decompression bombs (ratio and size limits) in bounded time", async () => {
    const zeros = path.join(dir, "zeros.txt");
    writeFileSync(zeros, Buffer.alloc(8 * 1024 * 1024, 0x20));
    sh("gzip", ["-k", "-9", "zeros.txt"], dir);
    sh("zip", ["-q9", "zeros.zip", "zeros.txt"], dir);
    const limits = { ratioCheckBytes: 1024 * 1024, maxRatio: 100 };
    const gzErr = await errorOf(collect([`${zeros}.gz`], limits));
    expect(gzErr.code).toBe("E_LIMIT");
    expect(gzErr.message).toMatch(/bomb/);
    const zipErr = await errorOf(collect([path.join(dir, "zeros.zip")], limits));
    expect(zipErr.code).toBe("E_LIMIT");
    const sizeErr = await errorOf(collect([`${zeros}.gz`], { maxEntryBytes: 1024 * 1024 }));
    expect(sizeErr.code).toBe("E_LIMIT");
    // The same file passes with the default limits: the limits, not the data, made the difference.
    const { entries } = await collect([`${zeros}.gz`]);
    expect(entries[0]!.text.length).toBe(8 * 1024 * 1024);
  });

  it("reads files below, at and above the whole-read size byte for byte, in a folder and named directly", async () => {
    const big = path.join(dir, "big");
    mkdirSync(big);
    const sizes = [0, 1, 1024 * 1024 - 1, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 17];
    const contents = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => 48 + ((i + j) % 10))));
    contents.forEach((c, i) => writeFileSync(path.join(big, `t${i}.txt`), c));
    const { entries } = await collect([big]);
    expect(entries.map((e) => e.text.length)).toEqual(sizes);
    entries.forEach((e, i) => expect(e.text).toBe(contents[i]!.toString("utf8")));
    const direct = await collect(sizes.map((_, i) => path.join(big, `t${i}.txt`)));
    expect(direct.entries.map((e) => e.text)).toEqual(entries.map((e) => e.text));
  });

  it("reads small files whole through a lent buffer, each intact, and leaves larger ones to the stream", async () => {
    const mixed = path.join(dir, "mixed");
    mkdirSync(mixed);
    const sizes = [0, 5, 1024 * 1024 - 1, 7, 1024 * 1024, 3, 2 * 1024 * 1024 + 1, 9];
    const contents = sizes.map((n, i) => Buffer.alloc(n, 97 + i));
    contents.forEach((c, i) => writeFileSync(path.join(mixed, `m${i}.txt`), c));
    const fds = readdirSync("/proc/self/fd").length;
    const seen: (number | "stream")[] = [];
    for await (const e of listInputs([mixed])) {
      const whole = e.readWhole?.();
      if (whole === undefined) {
        seen.push("stream");
        expect(await readAll(e)).toBe(contents[seen.length - 1]!.toString("utf8"));
        continue;
      }
      // The lent buffer holds exactly this file, whatever the previous (longer) file left in it.
      expect(Buffer.from(whole.bytes).equals(contents[seen.length]!)).toBe(true);
      seen.push(whole.bytes.length);
      whole.release();
    }
    expect(seen).toEqual([0, 5, 1024 * 1024 - 1, 7, "stream", 3, "stream", 9]);
    expect(readdirSync("/proc/self/fd").length).toBeLessThanOrEqual(fds);
  });

  it("abandoning a file after its first chunk closes it (no descriptor leaks)", async () => {
    const file = path.join(dir, "abandoned.txt");
    writeFileSync(file, Buffer.alloc(2 * 1024 * 1024 + 5, 0x33));
    const fds = (): number => readdirSync("/proc/self/fd").length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      for await (const e of listInputs([file])) {
        for await (const chunk of e.open()) {
          expect(chunk.length).toBeGreaterThan(0);
          break;
        }
      }
    }
    expect(fds()).toBeLessThanOrEqual(before);
  });

  it("tells documentation from traces by name", () => {
    expect(isNonTraceName("README.md")).toBe(true);
    expect(isNonTraceName("index.tsv")).toBe(true);
    expect(isNonTraceName("run.json")).toBe(true);
    expect(isNonTraceName("UTD-0001.txt")).toBe(false);
    expect(isNonTraceName("trace.strace")).toBe(false);
  });
});

describe("listInputs on hostile trees", () => {
  it("follows a symbolic link to a folder, and skips one back to a folder above it with a note", async () => {
    const root = path.join(dir, "links");
    mkdirSync(path.join(root, "real", "inner"), { recursive: true });
    writeFileSync(path.join(root, "real", "inner", "t.txt"), "1 2 3 ");
    mkdirSync(path.join(dir, "elsewhere"));
    writeFileSync(path.join(dir, "elsewhere", "e.txt"), "4 5 6 ");
    symlinkSync(path.join(dir, "elsewhere"), path.join(root, "away"));
    symlinkSync(root, path.join(root, "real", "inner", "loop"));
    symlinkSync("..", path.join(root, "real", "up"));
    const { entries, skipped } = await collect([root]);
    expect(entries.map((e) => [e.parts.join("/"), e.text])).toEqual([
      ["away/e.txt", "4 5 6 "],
      ["real/inner/t.txt", "1 2 3 "],
    ]);
    expect(skipped.map((s) => [path.relative(root, s.path), s.reason])).toEqual([
      ["real/inner/loop", expect.stringMatching(/loop/)],
      ["real/up", expect.stringMatching(/loop/)],
    ]);
  });

  it("skips a dangling symbolic link with a note", async () => {
    const root = path.join(dir, "dangling");
    mkdirSync(root);
    writeFileSync(path.join(root, "a.txt"), "1 2 ");
    symlinkSync(path.join(root, "nothing-here"), path.join(root, "b.txt"));
    const { entries, skipped } = await collect([root]);
    expect(entries.map((e) => e.text)).toEqual(["1 2 "]);
    expect(skipped.map((s) => path.basename(s.path))).toEqual(["b.txt"]);
  });

  it("refuses devices named directly or reached through a link in a folder, as E_FORMAT naming them", async () => {
    const named = await errorOf(collect(["/dev/null"]));
    expect([named.code, named.location.file, named.message]).toEqual([
      "E_FORMAT",
      "/dev/null",
      expect.stringMatching(/^a character device, not a trace file/),
    ]);
    const root = path.join(dir, "devices");
    mkdirSync(root);
    symlinkSync("/dev/zero", path.join(root, "z.txt"));
    const linked = await errorOf(collect([root]));
    expect([linked.code, linked.location.file]).toEqual(["E_FORMAT", path.join(root, "z.txt")]);
  });

  it("refuses a FIFO in a folder without opening it", async () => {
    const root = path.join(dir, "fifo");
    mkdirSync(root);
    sh("mkfifo", ["f.txt"], root);
    const err = await errorOf(collect([root]));
    expect([err.code, err.location.file, err.message]).toEqual([
      "E_FORMAT",
      path.join(root, "f.txt"),
      expect.stringMatching(/FIFO/),
    ]);
  });

  it("opens gzip-compressed archives: a .zip.gz member of a tar, and .zip.gz and .tgz.gz files", async () => {
    const nest = path.join(dir, "gznest");
    mkdirSync(nest);
    writeFileSync(path.join(nest, "r1.sc"), "payload");
    sh("zip", ["-qj", "r1.zip", "r1.sc"], nest);
    sh("gzip", ["-k", "r1.zip"], nest);
    sh("tar", ["cf", "outer.tar", "r1.zip.gz"], nest);
    const inTar = await collect([path.join(nest, "outer.tar")]);
    expect(inTar.entries.map((e) => [e.path, e.parts, e.text])).toEqual([
      [`${path.join(nest, "outer.tar")}:r1.zip.gz:r1.sc`, ["outer.tar", "r1.zip.gz", "r1.sc"], "payload"],
    ]);
    const direct = await collect([path.join(nest, "r1.zip.gz")]);
    expect(direct.entries.map((e) => e.text)).toEqual(["payload"]);
    sh("tar", ["czf", "inner.tgz", "r1.sc"], nest);
    // gzip itself refuses a .tgz ("already has .tgz suffix"): compressed here.
    writeFileSync(path.join(nest, "inner.tgz.gz"), gzipSync(readFileSync(path.join(nest, "inner.tgz"))));
    sh("zip", ["-qj", "outer.zip", "inner.tgz.gz"], nest);
    const inZip = await collect([path.join(nest, "outer.zip")]);
    expect(inZip.entries.map((e) => [e.path, e.text])).toEqual([
      [`${path.join(nest, "outer.zip")}:inner.tgz.gz:r1.sc`, "payload"],
    ]);
  });
});

describe("maxInputBytes", () => {
  const files = (sizes: number[], tag: string): string[] => {
    const root = path.join(dir, `budget-${tag}`);
    mkdirSync(root, { recursive: true });
    return sizes.map((n, i) => {
      const f = path.join(root, `t${i}.txt`);
      writeFileSync(f, Buffer.alloc(n, 0x31));
      return f;
    });
  };

  it("counts decompressed bytes over all inputs, and names the entry that passes the limit", async () => {
    const [a, b] = files([300, 300], "gz");
    sh("gzip", ["-k", path.basename(b!)], path.dirname(b!));
    expect((await collect([a!, `${b!}.gz`], { maxInputBytes: 600 })).entries).toHaveLength(2);
    const err = await errorOf(collect([a!, `${b!}.gz`], { maxInputBytes: 599 }));
    expect([err.code, err.location.file]).toEqual(["E_LIMIT", `${b!}.gz`]);
    expect(err.message).toMatch(/passes 599 bytes in all/);
  });

  it("property: reading succeeds exactly when the inputs' total is within the limit", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 * 1024 * 1024 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 8 * 1024 * 1024 }),
        async (sizes, limit) => {
          const paths = files(sizes, String(round++));
          const total = sizes.reduce((x, y) => x + y, 0);
          const got = await collect(paths, { maxInputBytes: limit }).then(
            (r) => r.entries.reduce((x, e) => x + e.text.length, 0),
            (err: unknown) => err,
          );
          if (total <= limit) expect(got).toBe(total);
          else {
            expect(got).toBeInstanceOf(HomeostatError);
            const e = got as HomeostatError;
            expect(e.code).toBe("E_LIMIT");
            // The entry named is the one during which the running total passed the limit.
            let run = 0;
            const over = sizes.findIndex((n) => (run += n) > limit);
            expect(e.location.file).toBe(paths[over]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
