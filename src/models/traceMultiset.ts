// The distinct training traces a refitting model keeps (the HMM), each with how often it was seen: identical traces
// are common in syscall data, and fitting a weighted set costs what fitting its distinct traces costs.

import { traceHash } from "./hash.js";

export class TraceMultiset {
  /** Distinct traces, in the order first seen. */
  readonly traces: Uint16Array[] = [];
  /** How often each was seen. */
  readonly weights: number[] = [];
  private readonly byHash = new Map<number, number[]>();

  get size(): number {
    return this.traces.length;
  }

  /** Counts one more occurrence of `t`, keeping a copy of it when it is new. */
  add(t: Uint16Array): void {
    const h = traceHash(t);
    const list = this.byHash.get(h);
    if (list !== undefined) {
      for (const i of list) {
        if (sameTrace(this.traces[i]!, t)) {
          this.weights[i]!++;
          return;
        }
      }
    }
    this.push(h, t.slice(), 1);
  }

  /** Appends a trace (kept, not copied) with its weight, as restored from a stored set: no duplicate check. */
  append(t: Uint16Array, weight: number): void {
    this.push(traceHash(t), t, weight);
  }

  private push(h: number, t: Uint16Array, weight: number): void {
    const i = this.traces.length;
    this.traces.push(t);
    this.weights.push(weight);
    const list = this.byHash.get(h);
    if (list === undefined) this.byHash.set(h, [i]);
    else list.push(i);
  }
}

function sameTrace(x: Uint16Array, y: Uint16Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
