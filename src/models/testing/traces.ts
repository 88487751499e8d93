// Test helper: trace sets for model tests. Synthetic "programs" are seeded random Markov chains over a small
// alphabet (each call has a few likely successors, plus rare noise), so that windows and pairs repeat as in real
// traces while staying reproducible; real traces come from ADFA-LD when ../shared/datasets/adfa-ld exists, parsed
// trivially (whitespace-separated numbers mapped to dense ids in order of first appearance). Used only by tests.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SeededRandom } from "../random.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const ADFA_DIR = path.resolve(REPO_ROOT, "../shared/datasets/adfa-ld");

/** A seeded Markov chain over ids 0..alphabet-1 that writes traces. */
export class SyntheticProgram {
  private readonly next: Uint16Array[];

  constructor(
    seed: number,
    readonly alphabet: number,
    private readonly noise = 0.01,
  ) {
    const rng = new SeededRandom(seed);
    this.next = [];
    for (let a = 0; a < alphabet; a++) {
      const fanout = 1 + rng.nextInt(3);
      const succ = new Uint16Array(fanout);
      for (let i = 0; i < fanout; i++) succ[i] = rng.nextInt(alphabet);
      this.next.push(succ);
    }
  }

  /** One trace of the given length, drawn with `rng`. */
  trace(rng: SeededRandom, length: number): Uint16Array {
    const out = new Uint16Array(length);
    let cur = rng.nextInt(this.alphabet);
    for (let i = 0; i < length; i++) {
      out[i] = cur;
      const succ = this.next[cur]!;
      cur = rng.next() < this.noise ? rng.nextInt(this.alphabet) : succ[rng.nextInt(succ.length)]!;
    }
    return out;
  }

  /** `count` traces with lengths uniform in [minLength, maxLength]. */
  traces(seed: number, count: number, minLength: number, maxLength: number): Uint16Array[] {
    const rng = new SeededRandom(seed);
    const out: Uint16Array[] = [];
    for (let i = 0; i < count; i++) out.push(this.trace(rng, minLength + rng.nextInt(maxLength - minLength + 1)));
    return out;
  }
}

/** The largest id in a set of traces (-1 when there is none). */
export function maxIdOf(traces: readonly Uint16Array[]): number {
  let m = -1;
  for (const t of traces) for (const id of t) if (id > m) m = id;
  return m;
}

export interface AdfaTraces {
  training: Uint16Array[];
  validation: Uint16Array[];
  attack: Uint16Array[];
  /** Distinct syscall numbers (dense ids are indexes into this). */
  numbers: number[];
}

let adfaCache: AdfaTraces | undefined;

/** Why ADFA-LD cannot be used, or undefined when it can. */
export function adfaMissingReason(): string | undefined {
  return existsSync(path.join(ADFA_DIR, "Training_Data_Master")) ? undefined : `ADFA-LD not found at ${ADFA_DIR}`;
}

/** All of ADFA-LD with one dense id map (loaded once per test file). Files are read in sorted name order. */
export function loadAdfa(): AdfaTraces {
  if (adfaCache !== undefined) return adfaCache;
  const ids = new Map<number, number>();
  const numbers: number[] = [];
  const read = (file: string): Uint16Array => {
    const words = readFileSync(file, "latin1")
      .split(/\s+/)
      .filter((w) => w.length > 0);
    const out = new Uint16Array(words.length);
    words.forEach((w, i) => {
      const n = Number(w);
      let id = ids.get(n);
      if (id === undefined) {
        id = numbers.length;
        ids.set(n, id);
        numbers.push(n);
      }
      out[i] = id;
    });
    return out;
  };
  const dirTraces = (dir: string): Uint16Array[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith(".txt"))
      .sort()
      .map((f) => read(path.join(dir, f)));
  const training = dirTraces(path.join(ADFA_DIR, "Training_Data_Master"));
  const validation = dirTraces(path.join(ADFA_DIR, "Validation_Data_Master"));
  const attackRoot = path.join(ADFA_DIR, "Attack_Data_Master");
  const attack = readdirSync(attackRoot)
    .sort()
    .flatMap((d) => dirTraces(path.join(attackRoot, d)));
  adfaCache = { training, validation, attack, numbers };
  return adfaCache;
}

/** Per-call signals of a whole trace set (a fresh stream per trace). */
export function scoreAll(
  detector: { scoreTrace(t: Uint16Array, out: Float64Array): void },
  traces: readonly Uint16Array[],
): Float64Array[] {
  return traces.map((t) => {
    const out = new Float64Array(t.length);
    detector.scoreTrace(t, out);
    return out;
  });
}

/** The first place two score sets differ (Object.is, so NaN equals NaN), or undefined when identical. */
export function firstDifference(a: readonly Float64Array[], b: readonly Float64Array[]): string | undefined {
  if (a.length !== b.length) return `${a.length} traces vs ${b.length}`;
  for (let t = 0; t < a.length; t++) {
    const x = a[t]!;
    const y = b[t]!;
    if (x.length !== y.length) return `trace ${t}: ${x.length} scores vs ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      if (!Object.is(x[i], y[i])) return `trace ${t} call ${i}: ${x[i]} vs ${y[i]}`;
    }
  }
  return undefined;
}
