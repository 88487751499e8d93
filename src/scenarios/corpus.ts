// Seeded text for the files the scenarios' programs work on (web pages, source files, documents, job inputs):
// plain English-like words, so that parsers, compressors and digests see ordinary data. Pure functions of the
// generator's state.

import type { SeededRandom } from "../models/random.js";
import { between, pick } from "./planning.js";

const WORDS = (
  "system call trace normal process kernel server client request reply file read write open close buffer " +
  "memory page cache socket signal thread timer event queue table index value record profile model window " +
  "sequence anomaly daemon network packet stream lock mutex config option module library header source build " +
  "commit branch merge patch release version update status report metric sample window order state"
).split(" ");

export function sentence(rng: SeededRandom, min = 4, max = 14): string {
  const n = between(rng, min, max);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(rng, WORDS));
  const s = words.join(" ");
  return `${s[0]!.toUpperCase()}${s.slice(1)}.`;
}

/** Lines of sentences, about `bytes` long in all (at least one line). */
export function textOfSize(rng: SeededRandom, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  do {
    const line = sentence(rng);
    lines.push(line);
    size += line.length + 1;
  } while (size < bytes);
  return `${lines.join("\n")}\n`;
}

/** `n` random bytes (binary content: images, archives). */
export function bytesOfSize(rng: SeededRandom, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) {
    const v = rng.nextUint32();
    for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return out;
}

/** A word from the corpus. */
export function corpusWord(rng: SeededRandom): string {
  return pick(rng, WORDS);
}
