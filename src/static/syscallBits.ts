// Sets of system-call numbers as bitsets (16 words: numbers below 512), and rows of them packed in one array, for
// the digraph's worklist (digraph.ts, Wagner & Dean): OR-ing that reports growth (the fixpoint's test), and reused
// scratch rows and stacks, since a function is evaluated many times and large programs have hundreds of thousands
// of events.

export const WORDS = 16; // 512 system-call numbers

/** A set of system-call numbers below 512, one bit each. */
export type Bits = Uint32Array;

/** ORs `from` into `to`; true when it grew. */
export function orBits(to: Bits, from: Bits): boolean {
  let changed = false;
  for (let w = 0; w < WORDS; w++) {
    const v = (to[w]! | from[w]!) >>> 0;
    if (v !== to[w]) {
      to[w] = v;
      changed = true;
    }
  }
  return changed;
}

export function setOf(numbers: Iterable<number>): Bits {
  const b = new Uint32Array(WORDS);
  for (const n of numbers) if (n >= 0 && n < WORDS * 32) b[n >>> 5]! |= 1 << (n & 31);
  return b;
}

export function bitMembers(b: Bits): number[] {
  const out: number[] = [];
  for (let n = 0; n < WORDS * 32; n++) if ((b[n >>> 5]! >>> (n & 31)) & 1) out.push(n);
  return out;
}

/** ORs row `from` into row `at` of `out`; true when it grew. */
export function orRow(out: Uint32Array, at: number, from: Uint32Array, fromAt = 0): boolean {
  let changed = false;
  for (let w = 0; w < WORDS; w++) {
    const v = (out[at + w]! | from[fromAt + w]!) >>> 0;
    if (v !== out[at + w]) {
      out[at + w] = v;
      changed = true;
    }
  }
  return changed;
}

/** ORs into `out` the rows of `rows` of the given events. */
export function orNext(out: Bits, rows: Uint32Array, next: ArrayLike<number>): boolean {
  let changed = false;
  for (let i = 0; i < next.length; i++) if (orRow(out, 0, rows, next[i]! * WORDS)) changed = true;
  return changed;
}

// One scratch row per event of the function at hand, and a work stack: reused, since a function is evaluated many
// times and large programs have hundreds of thousands of events.
let scratchRows = new Uint32Array(WORDS * 1024);
let scratchStack = new Int32Array(1024);

export function rowsFor(n: number): Uint32Array {
  if (scratchRows.length < n * WORDS) scratchRows = new Uint32Array(Math.max(n * WORDS, scratchRows.length * 2));
  else scratchRows.fill(0, 0, n * WORDS);
  return scratchRows;
}

export function stackFor(n: number): Int32Array {
  if (scratchStack.length < n) scratchStack = new Int32Array(Math.max(n, scratchStack.length * 2));
  return scratchStack;
}
