// The one parser of every numeric command-line value. Strict: an integer is decimal digits only (no sign unless the
// range allows negative values, no hex, no exponent, no blank, no spaces), a fraction is decimal notation (`0.25`,
// `.5`, `3`) and only where a fraction makes sense; every value has an explicit range, so that nothing the user
// types reaches a typed-array allocation or a timer as a size it cannot have. A refused value is one E_USAGE line.
// The rule itself is src/models/numberText.ts, shared with model specs (`stide:k=6`).

import { describeRange as describeRule, type NumberRule, parseNumberText } from "../models/numberText.js";

/** What a numeric value may be. */
export interface NumberSpec extends Omit<NumberRule, "exponent"> {
  /** The option's name without dashes (`window`), or any label for the message. */
  name: string;
  /** How the value is introduced in messages (default `--${name}`). */
  label?: string;
}

// Largest values some options may take, chosen so that nothing downstream misbehaves on them.

/** Node's timers hold at most 2^31 - 1 ms (about 24.8 days); a longer delay fires at once. */
export const TIMER_MAX_MS = 2_147_483_647;
/** The same limit in whole seconds, for options given in seconds that become a timer. */
export const TIMER_MAX_S = Math.floor(TIMER_MAX_MS / 1000);
/** Linux's PID_MAX_LIMIT on 64-bit: no pid (nor task count) is larger. */
export const PID_MAX = 4_194_304;
/** Locality frames and score windows: one typed-array slot per call, per stream. A million is far past any use. */
export const FRAME_MAX = 1_000_000;
/** Seeds are used as 32-bit unsigned integers; a larger one would alias a smaller one. */
export const SEED_MAX = 4_294_967_295;
/** Per-trace score thresholds: every score is >= 0; a billion is beyond any score homeostat computes. */
export const THRESHOLD_MAX = 1_000_000_000;
/** Counts and limits with no natural bound (pH's factors and limits, profiles, top-N lists). */
export const COUNT_MAX = 1_000_000;
/** watch --normal-wait: ten years, in seconds (pH waits one week). */
export const NORMAL_WAIT_MAX_S = 315_360_000;
/** watch --keep-alerts: alerts (and actions) kept in the store at most. */
export const KEEP_ALERTS_MAX = 1_000_000_000;
/** watch --ring-buffer-pages: bpftrace's largest perf ring buffer, 2^20 pages per CPU. */
export const RING_BUFFER_PAGES_MAX = 1_048_576;

/** The accepted values in words: "an integer from 1 to 1000000", "a number greater than 0 and less than 1". */
export function describeRange(spec: NumberSpec): string {
  return describeRule(spec);
}

/** Parses `text` as `spec` says, or throws E_USAGE naming the option, the accepted range and the value. */
export function parseNumber(text: string, spec: NumberSpec): number {
  // Command-line fractions are decimal notation only, as their help writes them. Model specs take exponents too,
  // because a spec printed from a small real (`tstide:threshold=1e-7`) must parse back.
  return parseNumberText(text, { ...spec, exponent: false }, spec.label ?? `--${spec.name}`);
}

/** A commander option parser of an integer in [min, max]. */
export function intOption(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => parseNumber(value, { name, min, max });
}

/** A commander option parser of a number (fractions allowed) in [min, max] (or with excluded bounds). */
export function numberOption(
  name: string,
  min: number,
  max: number,
  bounds: { minExclusive?: boolean; maxExclusive?: boolean } = {},
): (value: string) => number {
  return (value: string) => parseNumber(value, { name, min, max, fraction: true, ...bounds });
}
