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
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
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
