// The fleet console's page shell: serve's layout (style sheet, script, charts, no inline script) with the fleet's
// navigation (Hosts, Alerts, Programs), and its small formatting helpers.

import { page, type PageParts } from "../serve/layout.js";
import type { SafeHtml } from "../serve/html.js";
import type { Chart } from "../report/vegaPage.js";

export type FleetNav = "hosts" | "alerts" | "programs" | "login";

const MENU = [
  ["hosts", "/", "Hosts"],
  ["alerts", "/alerts", "Alerts"],
  ["programs", "/programs", "Programs"],
] as const;

export function fleetPage(title: string, nav: FleetNav, body: SafeHtml, charts?: readonly Chart[]): string {
  const parts: PageParts = { title, nav, body, menu: MENU, brand: "homeostat fleet" };
  return page(charts === undefined ? parts : { ...parts, charts });
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" ("-" for none). */
export function ago(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "-";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}
