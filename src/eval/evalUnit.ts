// The unit of evaluation (experiment.ts): what gets one verdict, e.g. an ADFA-LD trace, or a LID-DS recording (all
// its threads; Grimmer et al. 2019 decide per recording), with its label and, for attacks, type, session and start.

/** One stream of calls of a unit, with per-call timestamps when the input has them. */
export interface UnitTrace {
  calls: Uint16Array;
  times?: Float64Array;
}

/** What gets one verdict: a trace, or a recording of several streams. */
export interface EvalUnit {
  name: string;
  traces: UnitTrace[];
  attack: boolean;
  /** The attack's type, for per-attack figures (attack units only). */
  attackType?: string;
  /** The attack session it belongs to (ADFA-LD's `<Type>_<n>` folder), for grouped folds (attack units only). */
  attackInstance?: string;
  /** When the attack began, on the traces' clock (LID-DS); absent: attack from the first call. */
  attackTime?: number;
}
