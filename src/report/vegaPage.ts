// A self-contained HTML page with Vega-Lite charts: the vega, vega-lite and vega-embed builds are read from the
// installed packages and inlined, so the page renders offline, from a file, with no network request. Each chart
// div gets data-rendered="true" once drawn (or data-error), which the browser tests wait for.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { HomeostatError } from "../errors.js";

const require = createRequire(import.meta.url);

/** The package's root folder: its entry point's nearest ancestor with the package's own package.json. */
function packageRoot(pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  for (;;) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (meta.name === pkg) return dir;
    } catch {
      // no package.json here: keep climbing
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json for ${pkg}`);
    dir = up;
  }
}

function packageFile(pkg: string, file: string): string {
  try {
    return readFileSync(join(packageRoot(pkg), file), "utf8");
  } catch {
    throw new HomeostatError("E_DEPENDENCY", `cannot read ${pkg}/${file}: reinstall homeostat's dependencies (npm ci)`);
  }
}

let cachedLibraries: string | undefined;

/** The three UMD builds, each safe to put inside a <script> element. */
function libraries(): string {
  cachedLibraries ??= [
    packageFile("vega", "build/vega.min.js"),
    packageFile("vega-lite", "build/vega-lite.min.js"),
    packageFile("vega-embed", "build/vega-embed.min.js"),
  ]
    .map((js) => `<script>${js.replace(/<\/(script)/gi, "<\\/$1")}</script>`)
    .join("\n");
  return cachedLibraries;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** JSON for a <script> element: NaN and infinities become null, and `</` cannot close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v))
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

export interface Chart {
  /** The chart div's id. */
  id: string;
  /** A Vega-Lite specification (data inlined). */
  spec: Record<string, unknown>;
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430; margin: 0; background: #f7f8fa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
p.lead { color: #4a5566; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.88em; display: block; overflow-x: auto; max-width: 100%; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e8eaee; text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #eef7ee; font-weight: 600; }
.chart { margin: 8px 0 20px; min-height: 40px; }
.note { color: #5b6575; font-size: 0.9em; }
ul.rules li { margin: 2px 0; }
`;

/** The page: a title, body HTML (already escaped by the caller) and charts placed by `<div class="chart" id>`. */
export function vegaPage(title: string, bodyHtml: string, charts: readonly Chart[]): string {
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style>
${libraries()}
</head><body><main>
${bodyHtml}
</main>
<script type="application/json" id="chart-specs">${scriptJson(specs)}</script>
<script>
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  Object.keys(specs).forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) return;
    vegaEmbed(el, specs[id], { renderer: "svg", actions: false })
      .then(function () { el.setAttribute("data-rendered", "true"); })
      .catch(function (e) { el.setAttribute("data-error", String(e && e.message || e)); });
  });
})();
</script>
</body></html>
`;
}
