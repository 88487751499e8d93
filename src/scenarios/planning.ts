// Seeded planning shared by every scenario: a recording's own seed from the build's (so that adding a recording
// or a program never changes another's plan), weighted and uniform choices over SeededRandom (mulberry32,
// src/models/random.ts), and where an attack burst goes inside a recording: after at least 30% and before at most
// 70% of its normal actions, so that every attack recording has normal behaviour before and after the attack, as
// LID-DS's recordings do (warm-up, then the exploit at a recorded time, then more normal traffic).

import { SeededRandom } from "../models/random.js";
import type { PlannedAttack, RecordingSpec } from "./types.js";

/** FNV-1a over the text, mixed with the build's seed: a recording's own 32-bit seed. */
export function deriveSeed(seed: number, ...parts: readonly (string | number)[]): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (const ch of parts.join("\u0000")) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
}

/** A generator for one recording (and a named purpose within it, so that independent draws stay independent). */
export function rngFor(spec: RecordingSpec, purpose = "actions"): SeededRandom {
  return new SeededRandom(deriveSeed(spec.seed, purpose));
}

export function pick<T>(rng: SeededRandom, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError("pick from an empty list");
  return items[rng.nextInt(items.length)]!;
}

/** An integer uniformly in [lo, hi]. */
export function between(rng: SeededRandom, lo: number, hi: number): number {
  return lo + rng.nextInt(hi - lo + 1);
}

/** One of the keys, with probability proportional to its weight. */
export function weighted<K extends string>(rng: SeededRandom, weights: readonly (readonly [K, number])[]): K {
  const total = weights.reduce((s, [, w]) => s + w, 0);
  let r = rng.next() * total;
  for (const [key, w] of weights) {
    if (r < w) return key;
    r -= w;
  }
  return weights[weights.length - 1]![0];
}

/** A word of lowercase letters, `min`..`max` long. */
export function word(rng: SeededRandom, min = 3, max = 9): string {
  let s = "";
  const n = between(rng, min, max);
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + rng.nextInt(26));
  return s;
}

/** Where the attack of an attack recording goes (undefined for a normal recording): 30%..70% into the actions. */
export function planAttack(spec: RecordingSpec): PlannedAttack | undefined {
  if (spec.attack === undefined) return undefined;
  const rng = rngFor(spec, "attack position");
  const n = spec.actions;
  const lo = Math.max(1, Math.ceil(n * 0.3));
  const hi = Math.max(lo, Math.min(n - 1, Math.floor(n * 0.7)));
  return { kind: spec.attack, at: between(rng, lo, hi) };
}
