// Ingestion speed and memory (issue #2): numeric formats >= 20 M syscalls/s in memory; reading all of ADFA-LD from
// its folder within 3x of `cat | wc -w`; strace text >= 1 M lines/s; a 1 GB strace log in < 300 MB resident memory.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { adfaFormat } from "../dist/ingest/adfaParser.js";
import { NullSink } from "../dist/ingest/event.js";
import { readTraces } from "../dist/ingest/reader.js";
import { straceFormat } from "../dist/ingest/straceParser.js";
import { unmFormat } from "../dist/ingest/unmParser.js";
import { Vocabulary } from "../dist/syscalls/vocabulary.js";
import { ADFA, best, bestAsync, check, hasAdfa, ROOT, save } from "./lib.js";

class CountSink extends NullSink {
  calls = 0;
  call() {
    this.calls++;
  }
}

function parseAll(format, buffers) {
  const vocab = new Vocabulary();
  const sink = new CountSink();
  for (const b of buffers) {
    const p = format.createParser({ file: "bench", vocab, sink });
    p.write(b);
    p.end();
  }
  return sink.calls;
}

function adfaFiles() {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".txt")) files.push(p);
    }
  };
  for (const s of ["Training_Data_Master", "Validation_Data_Master", "Attack_Data_Master"]) walk(path.join(ADFA, s));
  return files;
}

export async function run() {
  const checks = [];
  const figures = {};
  const tmp = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-"));
  try {
    if (hasAdfa()) {
      const files = adfaFiles();
      const buffers = files.map((f) => readFileSync(f));
      const calls = parseAll(adfaFormat, buffers);
      const t = best(() => parseAll(adfaFormat, buffers));
      figures.adfaInMemory = { calls, seconds: t, callsPerSecond: calls / t };
      checks.push(check("ADFA-LD parse, bytes in memory", calls / t / 1e6, ">=", 20, "M syscalls/s"));

      // UNM: the same calls laid out as `PID NUMBER` lines, 8 processes interleaved.
      const unmLines = [];
      files.forEach((f, i) => {
        for (const n of readFileSync(f, "utf8").trim().split(/\s+/)) unmLines.push(`${1000 + (i % 8)} ${n}`);
      });
      const unm = Buffer.from(`${unmLines.join("\n")}\n`);
      const ucalls = parseAll(unmFormat, [unm]);
      const tu = best(() => parseAll(unmFormat, [unm]));
      figures.unmInMemory = { calls: ucalls, seconds: tu, callsPerSecond: ucalls / tu };
      checks.push(check("UNM parse, bytes in memory", ucalls / tu / 1e6, ">=", 20, "M syscalls/s"));

      // End to end from the folder (cold-ish page cache is not controllable here; both sides read warm files).
      const list = path.join(tmp, "files.txt");
      const fd = openSync(list, "w");
      writeSync(fd, files.join("\0"));
      closeSync(fd);
      const tw = best(() => execFileSync("sh", ["-c", `xargs -0 cat < '${list}' | wc -w`]), 5);
      const te = await bestAsync(async () => {
        await readTraces([ADFA], { vocab: new Vocabulary(), sink: new CountSink() });
      }, 5);
      figures.adfaFolder = { homeostatSeconds: te, catWcSeconds: tw, ratio: te / tw };
      checks.push(check("ADFA-LD folder end to end vs cat|wc -w", te / tw, "<=", 3, "x"));
    } else {
      figures.skipped = "ADFA-LD absent: numeric benchmarks skipped";
    }

    // strace text: a real capture of a syscall-heavy program, repeated to a large in-memory log.
    const cap = path.join(tmp, "cap.strace");
    execFileSync("strace", [
      "-f",
      "-tt",
      "-T",
      "-o",
      cap,
      "sh",
      "-c",
      "for i in 1 2 3 4 5 6 7 8; do ls -la /usr/lib >/dev/null; cat /etc/os-release >/dev/null; done",
    ]);
    const one = readFileSync(cap);
    const lineCount = one
      .toString("latin1")
      .split("\n")
      .filter((l) => l.length > 0).length;
    const reps = Math.max(1, Math.ceil(2_000_000 / lineCount));
    const big = Buffer.concat(Array.from({ length: reps }, () => one));
    const totalLines = lineCount * reps;
    const ts = best(() => {
      const p = straceFormat.createParser({ file: "bench", vocab: new Vocabulary(), sink: new NullSink() });
      for (let off = 0; off < big.length; off += 1 << 20)
        p.write(big.subarray(off, Math.min(big.length, off + (1 << 20))));
      p.end();
    }, 3);
    figures.straceInMemory = { lines: totalLines, bytes: big.length, seconds: ts, linesPerSecond: totalLines / ts };
    checks.push(check("strace text parse", totalLines / ts / 1e6, ">=", 1, "M lines/s"));

    // 1 GB log through the CLI's reading path in a child process; its peak RSS is measured by the kernel.
    const gb = path.join(tmp, "big.strace");
    const out = openSync(gb, "w");
    let written = 0;
    while (written < 1024 ** 3) {
      writeSync(out, big);
      written += big.length;
    }
    closeSync(out);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      "/usr/bin/time",
      ["-f", "%M", process.execPath, path.join(ROOT, "bin/homeostat"), "inspect", "--json", gb],
      {
        encoding: "utf8",
        maxBuffer: 1 << 26,
      },
    );
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssKb = Number(r.stderr.trim().split("\n").pop());
    const parsed = JSON.parse(r.stdout);
    figures.strace1GB = {
      bytes: written,
      seconds: secs,
      maxRssMB: rssKb / 1024,
      calls: parsed.syscalls,
      traces: parsed.traces,
    };
    checks.push(check("1 GB strace log: peak resident memory", rssKb / 1024, "<=", 300, "MB"));
    rmSync(gb, { force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return save("ingest", { figures, checks });
}
