// The trace sets the detector conformance suite (conformance.ts) runs on: seeded synthetic Markov-chain programs
// (traces.ts) and, when the dataset is present, ADFA-LD (Creech & Hu's Linux host intrusion dataset). Each has two
// disjoint training sets, so that merging and incremental training have something to combine.

import { SeededRandom } from "../random.js";
import { loadAdfa, SyntheticProgram } from "./traces.js";

export interface TraceSets {
  name: string;
  /** Two disjoint training sets. */
  x: Uint16Array[];
  y: Uint16Array[];
  /** Traces to score: normal-like, mutated, and from a different program. */
  tests: Uint16Array[];
}

export function syntheticSets(): TraceSets {
  const program = new SyntheticProgram(11, 24);
  const x = program.traces(1, 25, 0, 300);
  const y = program.traces(2, 15, 50, 400);
  // Y also holds calls that X never makes (ids 24..39), so that merging and retraining grow the vocabulary past
  // a power of two (which changes how compact models lay out their tables).
  y.push(new SyntheticProgram(12, 40).trace(new SeededRandom(3), 400));
  const tests = program.traces(4, 10, 0, 300);
  const other = new SyntheticProgram(13, 28).traces(5, 5, 20, 200);
  const mutated = program.traces(6, 5, 100, 200).map((t, i) => {
    const m = t.slice();
    const rng = new SeededRandom(100 + i);
    for (let j = 0; j < 5; j++) m[rng.nextInt(m.length)] = rng.nextInt(28);
    return m;
  });
  return { name: "synthetic traces", x, y, tests: [...tests, ...other, ...mutated] };
}

export function adfaSets(): TraceSets {
  const adfa = loadAdfa();
  const pick = (traces: Uint16Array[], n: number): Uint16Array[] => {
    const step = Math.max(1, Math.floor(traces.length / n));
    return traces.filter((_, i) => i % step === 0).slice(0, n);
  };
  return {
    name: "ADFA-LD traces",
    x: adfa.training.slice(0, 120),
    y: adfa.training.slice(120, 200),
    tests: [...pick(adfa.validation, 40), ...pick(adfa.attack, 30)],
  };
}
