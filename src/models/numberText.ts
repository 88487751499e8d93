// The one rule for numbers a user types: command-line options (src/cli/numberOptions.ts) and model specs
// (registry.ts, `stide:k=6`) both parse through here, so that `--frame 1e3` and `stide:k=1e3` are refused alike.
// Strict: an integer is decimal digits only (a sign only where the range has negative values; no hex, no blank,
// no spaces), a real is decimal notation (`0.25`, `.5`, `3`) with an exponent (`1e-5`) only where the rule allows
// one; every value has an explicit range. It lives in models, the lowest layer that parses user numbers, so that
// the CLI above shares it instead of keeping a copy.

import { HomeostatError } from "../errors.js";

/** What a numeric value may be. */
export interface NumberRule {
  /** Smallest accepted value (excluded when `minExclusive`). */
  min: number;
  /** Largest accepted value (excluded when `maxExclusive`). */
  max: number;
  /** Whether a fraction is accepted (decimal notation); default false: integers only. */
  fraction?: boolean;
  /** With `fraction`: whether an exponent (`1e-5`) is accepted too. */
  exponent?: boolean;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

const INTEGER = /^[0-9]+$/;
const SIGNED_INTEGER = /^-?[0-9]+$/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;
const SIGNED_DECIMAL = /^-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;
const SCIENTIFIC = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const SIGNED_SCIENTIFIC = /^-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** The accepted values in words: "an integer from 1 to 1000000", "a number greater than 0 and less than 1". */
export function describeRange(rule: NumberRule): string {
  const what = rule.fraction === true ? "a number" : "an integer";
  const low = rule.minExclusive === true ? `greater than ${rule.min}` : undefined;
  const high = rule.maxExclusive === true ? `less than ${rule.max}` : undefined;
  if (low === undefined && high === undefined) return `${what} from ${rule.min} to ${rule.max}`;
  return `${what} ${low ?? `at least ${rule.min}`} and ${high ?? `at most ${rule.max}`}`;
}

function syntaxOf(rule: NumberRule): { pattern: RegExp; notation: string } {
  const negative = rule.min < 0;
  if (rule.fraction !== true) {
    return { pattern: negative ? SIGNED_INTEGER : INTEGER, notation: " (decimal digits only)" };
  }
  if (rule.exponent === true) {
    return { pattern: negative ? SIGNED_SCIENTIFIC : SCIENTIFIC, notation: " (decimal notation, e.g. 0.001 or 1e-3)" };
  }
  return { pattern: negative ? SIGNED_DECIMAL : DECIMAL, notation: " (decimal notation, no exponent)" };
}

function refuse(text: string, rule: NumberRule, label: string, why: string): HomeostatError {
  // One line however long or multi-line the value: JSON escapes newlines, and long values are cut.
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return new HomeostatError("E_USAGE", `${label} needs ${describeRange(rule)}${why}, got ${JSON.stringify(shown)}`);
}

/** Whether `value` is within the rule's range (bounds included or excluded as it says). */
export function inRange(value: number, rule: NumberRule): boolean {
  const tooLow = rule.minExclusive === true ? !(value > rule.min) : !(value >= rule.min);
  const tooHigh = rule.maxExclusive === true ? !(value < rule.max) : !(value <= rule.max);
  return !tooLow && !tooHigh;
}

/**
 * Parses `text` as `rule` says, or throws E_USAGE: `<label> needs <range> (<notation>), got "<text>"`. `label`
 * names what the value is for (`--window`, `option stide.k`).
 */
export function parseNumberText(text: string, rule: NumberRule, label: string): number {
  const { pattern, notation } = syntaxOf(rule);
  if (!pattern.test(text)) throw refuse(text, rule, label, notation);
  const n = Number(text);
  // -0 is 0; a value past 2^53 rounds, so integers must stay safe (the range check catches the rest).
  const value = Object.is(n, -0) ? 0 : n;
  if (!Number.isFinite(value) || (rule.fraction !== true && !Number.isSafeInteger(value))) {
    throw refuse(text, rule, label, "");
  }
  if (!inRange(value, rule)) throw refuse(text, rule, label, "");
  return value;
}
