// HTML for the console's pages, escaped by construction: the `html` tagged template escapes every interpolated
// value with the one escape function of the HTML reports (report/vegaPage.ts, escapeHtml), unless the value is
// already SafeHtml (another template's output). Profile names, alert texts and every other stored string therefore
// reach a page as text, never as markup. Arrays are joined; null, undefined and false render as nothing.

import { escapeHtml } from "../report/vegaPage.js";

export { escapeHtml };

/** Markup that is safe to put in a page as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A value a template accepts. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}

/** The tagged template: literal parts as written, interpolated values escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Trusted markup (used only for markup this code wrote itself, such as JSON already escaped for a script element). */
export function trusted(text: string): SafeHtml {
  return new SafeHtml(text);
}

/** An epoch-seconds time as UTC ISO text, to the second ("-" for none). */
export function isoTime(epoch: number | null | undefined): string {
  if (epoch === null || epoch === undefined || !Number.isFinite(epoch)) return "-";
  return new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** A whole number with thousands separators. */
export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A URL path with query parameters (empty values left out), for links that keep a page's filters. */
export function link(path: string, params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s === "" ? path : `${path}?${s}`;
}
