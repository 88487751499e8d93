// What every group of the detector conformance suite (conformance.ts) shares: the caller's options and one way to
// make a fresh or a trained detector of the kind under test. For a kind that is derived rather than trained (the
// static model), "trained on these traces" means derived from them, so every group runs on either kind.

import type { Detector, DetectorFactory } from "../detector.js";

export interface ConformanceOptions {
  /** Options for every detector the suite creates. */
  options?: Partial<Record<string, number | string | boolean>>;
  /** Overrides the detector's `mergeable` for the merge and incremental checks (false skips them). */
  mergeable?: boolean;
  /** Runs the checks on ADFA-LD traces too, when present (default true). */
  adfa?: boolean;
  /**
   * For kinds that do not learn from traces: builds the detector that stands for "trained on these traces" (e.g. a
   * static model allowing exactly their calls). Merge must then equal deriving from the union.
   */
  derive?: (traces: readonly Uint16Array[], options: Partial<Record<string, number | string | boolean>>) => Detector;
}

/** The kind under test, as every group of cases sees it. */
export interface ConformanceContext {
  readonly factory: DetectorFactory;
  readonly conf: ConformanceOptions;
  /** Options for every detector the suite creates. */
  readonly opts: Partial<Record<string, number | string | boolean>>;
  /** The kind and its options, naming the describe block. */
  readonly label: string;
  readonly derive: ConformanceOptions["derive"];
  /** A fresh, untrained detector. */
  readonly make: () => Detector;
  /** A detector trained on (or derived from) `traces`. */
  readonly trained: (traces: readonly Uint16Array[]) => Detector;
}

export function conformanceContext(factory: DetectorFactory, conf: ConformanceOptions): ConformanceContext {
  const opts = conf.options ?? {};
  const label = `${factory.kind}${Object.keys(opts).length > 0 ? ` ${JSON.stringify(opts)}` : ""}`;
  const make = (): Detector => factory.create(opts);
  const derive = conf.derive;
  const trained = (traces: readonly Uint16Array[]): Detector => {
    if (derive !== undefined) return derive(traces, opts);
    const d = make();
    d.train(traces);
    return d;
  };
  return { factory, conf, opts, label, derive, make, trained };
}
