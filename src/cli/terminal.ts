// Terminal conventions shared by every command: colour only when stderr/stdout is a terminal and NO_COLOR is unset,
// progress bars only when stderr is a terminal, numbers with thousands separators, aligned tables. The progress
// bar library is loaded when a bar is drawn, not at start-up.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;
export type Style = keyof typeof codes;

export function paint(text: string, style: Style, stream: NodeJS.WriteStream = process.stdout): string {
  if (!useColor(stream)) return text;
  const [a, b] = codes[style];
  return `\u001b[${a}m${text}\u001b[${b}m`;
}

export function num(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return String(n);
  // Whole numbers are grouped here: toLocaleString's first call loads ICU's number formatting (tens of ms), which
  // a command that prints a few counts should not pay. The result is the same ("1,234,567", "-1,234").
  if (digits === 0 && Number.isSafeInteger(n) && !Object.is(n, -0)) {
    const digitsOf = String(Math.abs(n));
    const grouped = digitsOf.replace(/\B(?=(\d{3})+$)/g, ",");
    return n < 0 ? `-${grouped}` : grouped;
  }
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cellNumber(n: number): string {
  return Number.isInteger(n) ? num(n) : String(Number(n.toPrecision(4)));
}

/** Renders rows as a table with columns aligned; numbers (right-aligned) are detected per cell. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === "number" ? cellNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const right = header.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number"));
  return cells
    .map((r) =>
      r
        .map((c, i) => (right[i] ? (c ?? "").padStart(widths[i]!) : (c ?? "").padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export interface Progress {
  update(value: number, total?: number, label?: string): void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal; a no-op otherwise (pipes, CI, --json). */
export function progress(title: string, total: number, enabled = true): Progress {
  if (!enabled || process.stderr.isTTY !== true) return { update() {}, stop() {} };
  const { SingleBar } = require("cli-progress") as typeof import("cli-progress");
  const bar = new SingleBar({
    format: `${title} [{bar}] {percentage}% {value}/{total} {label}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    barsize: 30,
  });
  bar.start(Math.max(1, total), 0, { label: "" });
  return {
    update(value, t, label) {
      if (t !== undefined) bar.setTotal(Math.max(1, t));
      bar.update(value, { label: label ?? "" });
    },
    stop() {
      bar.stop();
    },
  };
}
