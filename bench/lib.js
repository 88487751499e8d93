// Shared helpers of the benchmarks: timing, result files, dataset location. Benchmarks run the built package
// (dist/), one core, and write JSON under bench/results/.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DATASETS = path.resolve(ROOT, "../shared/datasets");
export const ADFA = path.join(DATASETS, "adfa-ld");
export const RESULTS = path.join(ROOT, "bench/results");

export function hasAdfa() {
  return existsSync(path.join(ADFA, "Training_Data_Master"));
}

/** Best (minimum) wall time of `runs` runs of fn, in seconds, after one warm-up run. */
export function best(fn, runs = 5) {
  fn();
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < min) min = dt;
  }
  return min;
}

export async function bestAsync(fn, runs = 3) {
  await fn();
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < min) min = dt;
  }
  return min;
}

export function machine() {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    date: new Date().toISOString(),
  };
}

/** Writes a result file and returns it; `checks` are {name, value, target, unit, pass}. */
export function save(name, result) {
  mkdirSync(RESULTS, { recursive: true });
  const out = { benchmark: name, machine: machine(), ...result };
  writeFileSync(path.join(RESULTS, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
  return out;
}

export function check(name, value, op, target, unit) {
  const pass = op === ">=" ? value >= target : value <= target;
  return { name, value: Number(value.toPrecision(4)), target: `${op} ${target}`, unit, pass };
}
