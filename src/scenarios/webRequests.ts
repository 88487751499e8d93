// Seeded request mixes for the web scenarios: GETs of pages, scripts, images and downloads of every size, HEADs,
// 404s, conditional GETs (304), byte ranges where the server supports them, directory requests, and several
// requests on one kept-alive connection, each sent by one of four real clients, with the response it must get.

import type { SeededRandom } from "../models/random.js";
import type { HttpAction, HttpCall, HttpClient } from "./httpClients.js";
import { between, pick, weighted, word } from "./planning.js";
import { siteFiles } from "./webSite.js";

/** What differs between servers for the same static request. */
export interface WebProfile {
  /** Whether the server answers Range requests with 206. */
  ranges: boolean;
  /** Status of a request for a folder without index (nginx 403, python's listing 200). */
  folderStatus: number;
}

export const SINGLE_CLIENTS: readonly HttpClient[] = ["curl", "wget", "python", "node"];

/** A client for one request: mostly curl and node, as on a real site's logs. */
export function singleClient(rng: SeededRandom): HttpClient {
  return weighted(rng, [
    ["curl", 4],
    ["node", 3],
    ["wget", 2],
    ["python", 2],
  ] as const);
}

function fileGet(rng: SeededRandom): HttpCall {
  const files = siteFiles();
  const kind = weighted(rng, [
    ["html", 6],
    ["asset", 5],
    ["img", 4],
    ["doc", 2],
    ["download", 1],
  ] as const);
  const prefix = { html: /\.html$/, asset: /^(css|js)\//, img: /^img\//, doc: /^docs\//, download: /^downloads\// }[
    kind
  ];
  const f = pick(
    rng,
    files.filter((x) => prefix.test(x.path)),
  );
  return { method: "GET", path: `/${f.path}`, expect: { status: 200, bytes: f.content.length } };
}

/** One static request of any kind. */
function staticCall(rng: SeededRandom, profile: WebProfile): HttpCall {
  const kind = weighted(rng, [
    ["get", 12],
    ["index", 2],
    ["head", 2],
    ["missing", 2],
    ["ims", 2],
    ["range", 2],
    ["folder", 1],
  ] as const);
  const files = siteFiles();
  switch (kind) {
    case "get":
      return fileGet(rng);
    case "index":
      return {
        method: "GET",
        path: "/",
        expect: { status: 200, bytes: files.find((f) => f.path === "index.html")!.content.length },
      };
    case "head":
      return { ...fileGet(rng), method: "HEAD", expect: { status: 200 } };
    case "missing":
      return {
        method: "GET",
        path: pick(rng, [`/${word(rng)}.html`, `/blog/post-${between(rng, 11, 99)}.html`, `/img/${word(rng)}.png`]),
        expect: { status: 404 },
      };
    case "ims":
      return { ...fileGet(rng), ifModifiedSince: true, expect: { status: 304, bytes: 0 } };
    case "range": {
      const f = pick(
        rng,
        files.filter((x) => x.content.length > 100_000),
      );
      const a = between(rng, 0, f.content.length - 2);
      const b = Math.min(f.content.length - 1, a + between(rng, 1, 65_536));
      const expect = profile.ranges ? { status: 206, bytes: b - a + 1 } : { status: 200, bytes: f.content.length };
      return { method: "GET", path: `/${f.path}`, range: [a, b], expect };
    }
    case "folder":
      return {
        method: "GET",
        path: pick(rng, ["/docs/", "/img/", "/blog/"]),
        expect: { status: profile.folderStatus },
      };
  }
}

/** A static-site action: one request by any client, or 2-5 on one connection (curl or node). */
export function staticAction(rng: SeededRandom, profile: WebProfile): HttpAction {
  if (rng.next() < 0.25) {
    const calls = Array.from({ length: between(rng, 2, 5) }, () => staticCall(rng, profile));
    return { client: pick(rng, ["curl", "node"] as const), calls };
  }
  const call = staticCall(rng, profile);
  // wget knows nothing of headers it did not add itself: it writes no 206 body for our Range, and waits for the
  // body of our If-Modified-Since's 304 until the server's keep-alive timeout. Those go by the other clients.
  const plain = call.range === undefined && call.ifModifiedSince !== true;
  const client = plain ? singleClient(rng) : pick(rng, ["curl", "node", "python"] as const);
  return { client, calls: [call] };
}

/** One line for a sidecar's workload. */
export function describeHttp(a: HttpAction): string {
  const calls = a.calls.map(
    (c) =>
      `${c.method} ${c.path}${c.range ? ` [${c.range[0]}-${c.range[1]}]` : ""}${c.ifModifiedSince ? " (IMS)" : ""}`,
  );
  return `${a.client}: ${calls.join(", ")}`.slice(0, 140);
}
