// What a file's name says before it is read: which archive it is (by extension, as users and datasets name them),
// whether a folder walk should treat it as documentation rather than a trace, and its stem (for sidecar files).

const DOC_NAMES = new Set([
  "readme",
  "readme.md",
  "readme.txt",
  "license",
  "licence",
  "license.txt",
  "copying",
  "sha256sums",
  "sha1sums",
  "md5sums",
  "index.tsv",
  "runs.csv",
]);
const NON_TRACE_EXT = /\.(md|json|pcap|pcapng|res|csv|tsv|sha256|md5|sig|asc|pdf|html|png|jpg)$/i;

export type ArchiveKind = "zip" | "tar" | "tgz" | "gz";

export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (n.endsWith(".zip")) return "zip";
  if (n.endsWith(".tar.gz") || n.endsWith(".tgz")) return "tgz";
  if (n.endsWith(".tar")) return "tar";
  if (n.endsWith(".gz")) return "gz";
  return undefined;
}

/**
 * Whether a name is an archive of entries (zip, tar, tar.gz), possibly gzip-compressed again (`x.zip.gz`,
 * `x.tgz.gz`), rather than one compressed trace (`x.txt.gz`).
 */
export function isArchiveName(name: string): boolean {
  const kind = archiveKind(name);
  if (kind === undefined) return false;
  if (kind !== "gz") return true;
  return isArchiveName(name.slice(0, -3));
}

/** Whether a file found in a folder walk is documentation or metadata rather than a trace. */
export function isNonTraceName(name: string): boolean {
  const b = name.toLowerCase();
  return b.startsWith(".") || DOC_NAMES.has(b) || NON_TRACE_EXT.test(b);
}

/** The name without its last extension. */
export function stemOf(name: string): string {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(0, i) : name;
}
