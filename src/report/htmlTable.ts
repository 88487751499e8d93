// HTML tables and number formats shared by the report pages (htmlReport.ts, datasetReport.ts): cells are text
// (escaped here) or numbers already formatted, right-aligned; undefined figures show as a dash.

import { escapeHtml } from "./vegaPage.js";

export const DASH = "–";
export const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : DASH);
export const fix = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : DASH);
export const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : DASH);
export const sig = (x: number): string =>
  Number.isFinite(x) ? String(Number(x.toPrecision(4))) : x > 0 ? "+∞" : x < 0 ? "−∞" : DASH;
/** Seconds with the digits that matter: 12.3, 0.42, 0.0021. */
export const secs = (x: number): string =>
  !Number.isFinite(x)
    ? DASH
    : x === 0
      ? "0"
      : x >= 10
        ? x.toFixed(1)
        : x >= 0.1
          ? x.toFixed(2)
          : String(Number(x.toPrecision(2)));

/** A table cell: text (left-aligned) or a number already formatted (right-aligned). */
export type Cell = string | { n: string; cls?: string } | { html: string; numeric?: boolean };
export interface Row {
  cells: Cell[];
  cls?: string;
}

function cellHtml(c: Cell): string {
  if (typeof c === "string") return `<td>${escapeHtml(c)}</td>`;
  if ("n" in c) return `<td class="n${c.cls !== undefined ? ` ${c.cls}` : ""}">${escapeHtml(c.n)}</td>`;
  return `<td${c.numeric === true ? ' class="n"' : ""}>${c.html}</td>`;
}

/** Header names starting with "#" are numeric columns (right-aligned); the "#" is not shown. */
export function tableHtml(header: string[], rows: Row[], cls?: string): string {
  const head = header
    .map((h) => (h.startsWith("#") ? `<th class="n">${escapeHtml(h.slice(1))}</th>` : `<th>${escapeHtml(h)}</th>`))
    .join("");
  const body = rows
    .map((r) => `<tr${r.cls !== undefined ? ` class="${r.cls}"` : ""}>${r.cells.map(cellHtml).join("")}</tr>`)
    .join("\n");
  return `<table${cls !== undefined ? ` class="${cls}"` : ""}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
