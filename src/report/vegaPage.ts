// A self-contained HTML page with Vega-Lite charts: the vega, vega-lite and vega-embed UMD builds are read from the
// installed packages at render time and inlined, so the page renders offline, from a file, with no network
// request. Each chart div gets data-rendered="true" once vegaEmbed's promise resolves (or data-error with the
// message when it rejects), which the browser tests wait for.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { HomeostatError } from "../errors.js";
import { toJsonSafe } from "../eval/metricJson.js";

const require = createRequire(import.meta.url);

/**
 * The package's root folder. `require.resolve("vega/package.json")` would be shorter, but vega, vega-lite and
 * vega-embed declare `exports` without "./package.json" (ERR_PACKAGE_PATH_NOT_EXPORTED), so we climb from the
 * entry point to the nearest package.json that names the package.
 */
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

/** A file of an installed package, as text (E_DEPENDENCY when it cannot be read). */
export function packageFile(pkg: string, file: string): string {
  try {
    return readFileSync(join(packageRoot(pkg), file), "utf8");
  } catch (e) {
    throw new HomeostatError(
      "E_DEPENDENCY",
      `cannot read ${pkg}/${file}: reinstall homeostat's dependencies (npm ci)`,
      {},
      { cause: e },
    );
  }
}

/**
 * JavaScript as the content of a <script> element. The HTML parser ends the element at the first `</script`,
 * wherever it stands in the code; inside the string and regex literals where it can occur in valid JavaScript,
 * `<\/script` means the same, so it is rewritten. A `<!--` followed by `<script` would put the parser into the
 * "double escaped" state, where even the real closing tag no longer ends the element; that cannot be rewritten
 * without knowing the JavaScript context, so such code is refused rather than inlined broken.
 */
export function inlineScript(js: string, what = "script"): string {
  if (js.includes("<!--") && /<script/i.test(js)) {
    throw new HomeostatError("E_DEPENDENCY", `${what} contains "<!--" and "<script", which cannot be inlined safely`);
  }
  return `<script>${js.replace(/<\/(script)/gi, "<\\/$1")}</script>`;
}

let cachedLibraries: string | undefined;

/** The three UMD builds as <script> elements (read once per process). */
function libraries(): string {
  cachedLibraries ??= (
    [
      ["vega", "build/vega.min.js"],
      ["vega-lite", "build/vega-lite.min.js"],
      ["vega-embed", "build/vega-embed.min.js"],
    ] as const
  )
    .map(([pkg, file]) => inlineScript(packageFile(pkg, file), `${pkg}/${file}`))
    .join("\n");
  return cachedLibraries;
}

/** Escapes text for HTML element content and (quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * JSON for a <script type="application/json"> element: NaN and infinities become null (toJsonSafe, so the
 * conversion is explicit rather than JSON.stringify's silent one), and every `<` is written \u003c so that no
 * `</script` or `<!--` can appear; JSON.parse reads the escapes back as the original characters.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(toJsonSafe(value))
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

export interface VegaPageOptions {
  /** Extra CSS after the base style sheet. */
  style?: string;
}

const STYLE = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1d2430; margin: 0; background: #f3f4f7; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; background: #fff; min-height: 100vh; box-sizing: border-box; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 36px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
h3 { font-size: 1em; margin: 16px 0 6px; }
p.lead { color: #4a5566; margin-top: 0; }
code { font: 0.9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f6; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.88em; display: block; overflow-x: auto; max-width: 100%; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e8eaee; text-align: left; vertical-align: top; }
th { background: #f1f3f6; font-weight: 600; white-space: nowrap; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.best td { background: #eaf6ea; }
tr.total td { font-weight: 600; border-top: 2px solid #cfd4db; }
.chart { margin: 8px 0 20px; min-height: 40px; overflow-x: auto; }
.chart[data-error]::before { content: "chart failed: " attr(data-error); color: #b00020; }
.note { color: #5b6575; font-size: 0.9em; }
ul.rules li { margin: 2px 0; }
`;

const EMBED = `
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  Object.keys(specs).forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) return;
    function fail(e) { el.setAttribute("data-error", String((e && e.message) || e)); }
    try {
      vegaEmbed(el, specs[id], { renderer: "svg", actions: false })
        .then(function () { el.setAttribute("data-rendered", "true"); })
        .catch(fail);
    } catch (e) {
      fail(e);
    }
  });
})();
`;

/**
 * The page: a title, body HTML (already escaped by the caller) and charts placed by `<div class="chart" id>`.
 * Chart specs travel as one JSON element and are embedded by id; a spec whose div is missing is skipped.
 */
export function vegaPage(
  title: string,
  bodyHtml: string,
  charts: readonly Chart[],
  options: VegaPageOptions = {},
): string {
  const specs = Object.fromEntries(charts.map((c) => [c.id, c.spec]));
  const style = STYLE + (options.style ?? "");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${style.replace(/<\/(style)/gi, "<\\/$1")}</style>
${libraries()}
</head><body><main>
${bodyHtml}
</main>
<script type="application/json" id="chart-specs">${scriptJson(specs)}</script>
${inlineScript(EMBED)}
</body></html>
`;
}
