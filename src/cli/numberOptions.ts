// The one parser of every numeric command-line value. Strict: an integer is decimal digits only (no sign unless the
// range allows negative values, no hex, no exponent, no blank, no spaces), a fraction is decimal notation (`0.25`,
// `.5`, `3`) and only where a fraction makes sense; every value has an explicit range, so that nothing the user
// types reaches a typed-array allocation or a timer as a size it cannot have. A refused value is one E_USAGE line.

import { HomeostatError } from "../errors.js";

/** What a numeric value may be. */
export interface NumberSpec {
  /** The option's name without dashes (`window`), or any label for the message. */
  name: string;
  /** Smallest accepted value (excluded when `minExclusive`). */
  min: number;
  /** Largest accepted value (excluded when `maxExclusive`). */
  max: number;
  /** Whether a fraction is accepted (decimal notation); default false: integers only. */
  fraction?: boolean;
  minExclusive?: boolean;
  maxExclusive?: boolean;
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

const INTEGER = /^[0-9]+$/;
const SIGNED_INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;
const SIGNED_DECIMAL = /^-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;

/** The accepted values in words: "an integer from 1 to 1000000", "a number greater than 0 and less than 1". */
export function describeRange(spec: NumberSpec): string {
  const what = spec.fraction === true ? "a number" : "an integer";
  const low = spec.minExclusive === true ? `greater than ${spec.min}` : undefined;
  const high = spec.maxExclusive === true ? `less than ${spec.max}` : undefined;
  if (low === undefined && high === undefined) return `${what} from ${spec.min} to ${spec.max}`;
  return `${what} ${low ?? `at least ${spec.min}`} and ${high ?? `at most ${spec.max}`}`;
}

function refuse(text: string, spec: NumberSpec, why: string): HomeostatError {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new HomeostatError(
    "E_USAGE",
    `${spec.label ?? `--${spec.name}`} needs ${describeRange(spec)}${why}, got ${JSON.stringify(shown)}`,
  );
}

/** Parses `text` as `spec` says, or throws E_USAGE naming the option, the accepted range and the value. */
export function parseNumber(text: string, spec: NumberSpec): number {
  const negative = spec.min < 0;
  const syntax = spec.fraction === true ? (negative ? SIGNED_DECIMAL : DECIMAL) : negative ? SIGNED_INTEGER : INTEGER;
  if (!syntax.test(text)) {
    const notation = spec.fraction === true ? " (decimal notation, no exponent)" : " (decimal digits only)";
    throw refuse(text, spec, notation);
  }
  const n = Number(text);
  // -0 is 0; a value past 2^53 rounds, so integers must stay safe (the range check catches the rest).
  const value = Object.is(n, -0) ? 0 : n;
  if (!Number.isFinite(value) || (spec.fraction !== true && !Number.isSafeInteger(value))) throw refuse(text, spec, "");
  const tooLow = spec.minExclusive === true ? !(value > spec.min) : !(value >= spec.min);
  const tooHigh = spec.maxExclusive === true ? !(value < spec.max) : !(value <= spec.max);
  if (tooLow || tooHigh) throw refuse(text, spec, "");
  return value;
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
