// The static web site the web scenarios serve (nginx, python http.server): pages, a blog, style sheets, scripts,
// images, documents and downloads from a few hundred bytes to a megabyte, so that requests exercise small and large
// responses, sendfile and range paths. Generated from a fixed seed: the same site in every recording of every
// build, as a container image's content is.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SeededRandom } from "../models/random.js";
import { bytesOfSize, sentence, textOfSize } from "./corpus.js";
import { between } from "./planning.js";

export interface SiteFile {
  /** URL path without the leading slash, e.g. `blog/post-3.html`. */
  path: string;
  content: Buffer;
}

function page(rng: SeededRandom, title: string, bytes: number): Buffer {
  const paragraphs: string[] = [];
  let size = 0;
  while (size < bytes) {
    const p = `<p>${sentence(rng, 8, 30)} ${sentence(rng, 8, 30)}</p>`;
    paragraphs.push(p);
    size += p.length + 1;
  }
  return Buffer.from(
    `<!doctype html>\n<html><head><title>${title}</title><link rel="stylesheet" href="/css/site.css">` +
      `<script src="/js/app.js"></script></head>\n<body><h1>${title}</h1>\n${paragraphs.join("\n")}\n</body></html>\n`,
  );
}

let cached: SiteFile[] | undefined;

/** Every file of the site (computed once). */
export function siteFiles(): SiteFile[] {
  if (cached !== undefined) return cached;
  const rng = new SeededRandom(0x5173);
  const files: SiteFile[] = [];
  const add = (p: string, content: Buffer): void => void files.push({ path: p, content });
  for (const name of ["index", "about", "contact", "pricing"])
    add(`${name}.html`, page(rng, name, between(rng, 1_500, 8_000)));
  for (let i = 1; i <= 10; i++) add(`blog/post-${i}.html`, page(rng, `post ${i}`, between(rng, 1_000, 30_000)));
  add("css/site.css", Buffer.from(textOfSize(rng, 8_000)));
  add("js/app.js", Buffer.from(textOfSize(rng, 20_000)));
  add("js/vendor.js", Buffer.from(textOfSize(rng, 120_000)));
  for (let i = 1; i <= 6; i++) add(`img/photo-${i}.jpg`, bytesOfSize(rng, between(rng, 5_000, 250_000)));
  for (let i = 1; i <= 4; i++) add(`img/icon-${i}.png`, bytesOfSize(rng, between(rng, 200, 2_000)));
  add("docs/manual.txt", Buffer.from(textOfSize(rng, 64_000)));
  for (let i = 1; i <= 3; i++) add(`docs/notes-${i}.txt`, Buffer.from(textOfSize(rng, between(rng, 500, 6_000))));
  add("downloads/dataset.csv", Buffer.from(textOfSize(rng, 300_000)));
  add("downloads/archive.bin", bytesOfSize(rng, 1_000_000));
  cached = files;
  return files;
}

/** Writes the site under `root`. */
export function writeSite(root: string): void {
  for (const f of siteFiles()) {
    const file = path.join(root, f.path);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.content);
  }
}
