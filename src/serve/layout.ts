// The page shell every console page shares: the navigation, the style sheet and script from /assets (no inline
// script or style, as the Content-Security-Policy requires), and the page's Vega-Lite specs as one JSON data element
// (not executed; console.js reads it). The Vega builds are loaded only by pages that have charts.

import type { Chart } from "../report/vegaPage.js";
import { scriptJson } from "../report/vegaPage.js";
import { html, type SafeHtml, trusted } from "./html.js";

/** Where the header's log-out form goes: security.ts puts it there when the request has a session to end. */
export const LOGOUT_SLOT = "<!--homeostat:logout-->";

export type NavName = "overview" | "profiles" | "alerts" | "responses" | "login";

/** A navigation link: its name (matched against PageParts.nav), its path and its label. */
export type NavItem = readonly [name: string, href: string, label: string];

const NAV: readonly NavItem[] = [
  ["overview", "/", "Overview"],
  ["profiles", "/profiles", "Profiles"],
  ["alerts", "/alerts", "Alerts"],
  ["responses", "/responses", "Responses"],
];

export interface PageParts {
  title: string;
  /** The link to mark as the current page ("login": no navigation); one of `menu`'s names when it is given. */
  nav: NavName | (string & {});
  body: SafeHtml;
  charts?: readonly Chart[];
  /** Another console's navigation (the fleet console's), instead of this one's. */
  menu?: readonly NavItem[];
  /** The name in the header (default "homeostat"). */
  brand?: string;
}

/** A whole page: doctype, head, navigation, body, charts. */
export function page(parts: PageParts): string {
  const charts = parts.charts ?? [];
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  const vega =
    charts.length > 0
      ? html`<script src="/assets/vega.min.js"></script>
          <script src="/assets/vega-lite.min.js"></script>
          <script src="/assets/vega-embed.min.js"></script>`
      : "";
  const nav =
    parts.nav === "login"
      ? ""
      : (parts.menu ?? NAV).map(
          ([name, href, label]) =>
            html`<a href="${href}" ${name === parts.nav ? trusted(' class="here"') : ""}>${label}</a>`,
        );
  // The login page is served before authentication, when /assets answers 401: it loads nothing.
  const login = parts.nav === "login";
  const style = login ? "" : html`<link rel="stylesheet" href="/assets/console.css" />`;
  const script = login ? "" : html`<script src="/assets/console.js"></script>`;
  return `<!doctype html>
${html`<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${parts.title} - homeostat</title>
    ${style}${vega}
  </head>
  <body>
    <header><span class="brand">${parts.brand ?? "homeostat"}</span>${nav}${trusted(LOGOUT_SLOT)}</header>
    <main>${parts.body}</main>
    ${charts.length > 0 ? trusted(`<script type="application/json" id="chart-specs">${scriptJson(specs)}</script>`) : ""}
    ${script}
  </body>
</html>`}
`;
}

/** A chart's placeholder div (console.js embeds the spec of the same id). */
export function chartDiv(id: string): SafeHtml {
  return html`<div class="chart" id="${id}"></div>`;
}
