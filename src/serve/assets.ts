// The console's static files, from a fixed allow-list: the Vega, Vega-Lite and vega-embed builds the HTML reports
// use (read from node_modules, so nothing comes from a CDN), the console's style sheet and its one script. No
// request names a file: a name outside this map is a 404, and no path from a request ever reaches the filesystem.

import { createHash } from "node:crypto";
import { packageFile } from "../report/vegaPage.js";
import { CONSOLE_CSS } from "./consoleStyle.js";
import { CONSOLE_JS } from "./clientScript.js";

export interface Asset {
  type: string;
  body: string;
  etag: string;
}

const SOURCES: Readonly<Record<string, { type: string; load: () => string }>> = {
  "vega.min.js": { type: "text/javascript; charset=utf-8", load: () => packageFile("vega", "build/vega.min.js") },
  "vega-lite.min.js": {
    type: "text/javascript; charset=utf-8",
    load: () => packageFile("vega-lite", "build/vega-lite.min.js"),
  },
  "vega-embed.min.js": {
    type: "text/javascript; charset=utf-8",
    load: () => packageFile("vega-embed", "build/vega-embed.min.js"),
  },
  "console.js": { type: "text/javascript; charset=utf-8", load: () => CONSOLE_JS },
  "console.css": { type: "text/css; charset=utf-8", load: () => CONSOLE_CSS },
};

/** The names the console serves under /assets/. */
export const ASSET_NAMES: readonly string[] = Object.keys(SOURCES);

const loaded = new Map<string, Asset>();

/** The asset of this name (read once per process), or undefined for any name not in the allow-list. */
export function asset(name: string): Asset | undefined {
  if (!Object.hasOwn(SOURCES, name)) return undefined;
  let a = loaded.get(name);
  if (a === undefined) {
    const source = SOURCES[name]!;
    const body = source.load();
    a = { type: source.type, body, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` };
    loaded.set(name, a);
  }
  return a;
}
