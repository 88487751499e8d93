// The stored form of the HMM detector (hmm.ts; Warrender, Forrest & Pearlmutter, IEEE S&P 1999), format version
// 1: the number of states, the training totals, the alphabet (hmmAlphabet.ts), the fitted parameters with their
// log-likelihood, and the retained traces with their weights, so that a loaded model refits as the saved one
// would. Saved models must keep loading: change the layout only with a new version.

import { symbolTable } from "./hmmAlphabet.js";
import { HmmParameters } from "./hmmParameters.js";
import { PayloadReader, PayloadWriter } from "./payload.js";
import { TraceMultiset } from "./traceMultiset.js";

const FORMAT_VERSION = 1;

/** Fitted parameters and their weighted training log-likelihood (natural log). */
export interface HmmFit {
  readonly params: HmmParameters;
  readonly ll: number;
}

/** Everything a stored HMM detector holds. */
export interface HmmRecord {
  readonly states: number;
  readonly calls: number;
  readonly traces: number;
  /** Ids seen in training, ascending. */
  readonly seen: Uint16Array;
  /** Null for an untrained model. */
  readonly fitted: HmmFit | null;
  readonly retained: TraceMultiset;
}

export function encodeHmm(record: HmmRecord): Uint8Array {
  const w = new PayloadWriter();
  w.u32(FORMAT_VERSION);
  const { seen, fitted } = record;
  w.u32(record.states);
  w.f64(record.calls);
  w.f64(record.traces);
  w.u32(seen.length);
  w.u16s(seen);
  if (seen.length % 2 === 1) w.u16(0);
  w.u32(fitted === null ? 0 : 1);
  if (fitted !== null) {
    w.f64(fitted.ll);
    w.f64s(fitted.params.pi);
    w.f64s(fitted.params.a);
    w.f64s(fitted.params.b);
  }
  const { traces, weights } = record.retained;
  w.u32(traces.length);
  for (let i = 0; i < traces.length; i++) {
    const t = traces[i]!;
    w.f64(weights[i]!);
    w.u32(t.length);
    w.u16s(t);
    if (t.length % 2 === 1) w.u16(0);
  }
  return w.finish();
}

/** Reads what `encodeHmm` wrote for a model of `states` states. Throws E_PARSE / E_VERSION on malformed bytes. */
export function decodeHmm(states: number, bytes: Uint8Array): HmmRecord {
  const r = new PayloadReader(bytes, "hmm");
  r.version(FORMAT_VERSION, 4);
  const n = r.u32();
  if (n !== states) throw r.fail(`stored model has ${n} states, the options say ${states}`);
  const retained = new TraceMultiset();
  const calls = r.f64();
  const traces = r.f64();
  if (!(Number.isInteger(calls) && calls >= 0 && Number.isInteger(traces) && traces >= 0)) {
    throw r.fail("bad call or trace totals");
  }
  const nSeen = r.u32();
  const seen = r.u16s(nSeen);
  if (nSeen % 2 === 1) r.u16();
  for (let i = 1; i < nSeen; i++) if (seen[i]! <= seen[i - 1]!) throw r.fail("seen ids are not strictly increasing");
  const fitted = readParameters(r, n, nSeen);
  const totals = readRetained(r, retained);
  r.end();
  // A model made from given parameters may have been trained on calls it does not retain, never the reverse.
  if (totals.calls > calls || totals.traces > traces) throw r.fail("retained traces exceed the training totals");
  if (fitted === null && retained.size > 0) throw r.fail("retained traces without parameters");
  if (fitted !== null) checkRetainedIds(r, retained, symbolTable(seen));
  return { states, calls, traces, seen, fitted, retained };
}

/** Reads the fitted parameters and their log-likelihood, or null for an untrained model. */
function readParameters(r: PayloadReader, n: number, nSeen: number): HmmFit | null {
  const hasParams = r.u32();
  if (hasParams > 1) throw r.fail("bad parameter flag");
  if (hasParams === 0) {
    if (nSeen !== 0) throw r.fail("an alphabet without parameters");
    return null;
  }
  if (nSeen === 0) throw r.fail("parameters without an alphabet");
  const ll = r.f64();
  const m = nSeen + 1;
  if ((n + n * n + m * n) * 8 > r.remaining) throw r.fail("parameter arrays exceed the data");
  const params = new HmmParameters(n, m, r.f64s(n), r.f64s(n * n), r.f64s(m * n));
  checkStochastic(r, "initial distribution", params.pi, 1, n, 0);
  for (let i = 0; i < n; i++) checkStochastic(r, `transition row ${i}`, params.a, 1, n, i * n);
  for (let i = 0; i < n; i++) checkStochastic(r, `emission row ${i}`, params.b, n, m, i);
  return { params, ll };
}

/** Reads the retained traces into `into`; returns the calls and traces they stand for (weights counted). */
function readRetained(r: PayloadReader, into: TraceMultiset): { calls: number; traces: number } {
  const nUnique = r.u32();
  if (nUnique * 12 > r.remaining) throw r.fail("trace count exceeds the data");
  let calls = 0;
  let traces = 0;
  for (let i = 0; i < nUnique; i++) {
    const weight = r.f64();
    if (!(Number.isInteger(weight) && weight >= 1)) throw r.fail(`retained trace ${i} has weight ${weight}`);
    const len = r.u32();
    if (len === 0) throw r.fail(`retained trace ${i} is empty`);
    const t = r.u16s(len);
    if (len % 2 === 1) r.u16();
    into.append(t, weight);
    calls += weight * len;
    traces += weight;
  }
  return { calls, traces };
}

/** Throws E_PARSE when a retained trace holds an id that `symbolOf` marks as outside the alphabet. */
function checkRetainedIds(r: PayloadReader, retained: TraceMultiset, symbolOf: Int32Array): void {
  for (const t of retained.traces) {
    for (let i = 0; i < t.length; i++) {
      if (symbolOf[t[i]!]! < 0) throw r.fail("a retained trace holds an id outside the alphabet");
    }
  }
}

/** Checks `count` entries at stride `stride` from `offset` are probabilities summing to 1. */
function checkStochastic(
  r: PayloadReader,
  what: string,
  v: Float64Array,
  stride: number,
  count: number,
  offset: number,
) {
  let sum = 0;
  for (let x = 0; x < count; x++) {
    const e = v[offset + x * stride]!;
    if (!(e >= 0 && e <= 1)) throw r.fail(`${what} holds ${e}, not a probability`);
    sum += e;
  }
  if (Math.abs(sum - 1) > 1e-6) throw r.fail(`${what} sums to ${sum}, not 1`);
}
