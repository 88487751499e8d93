// glibc loads code of its own with dlopen, out of sight of a `dlopen` call in the program: NSS modules named in
// /etc/nsswitch.conf (getpwuid and friends; `files` and `dns` are built in since glibc 2.34) and libgcc_s (unwinding
// for pthread_exit, pthread_cancel and backtrace). When the functions that load them are reachable, the modules this
// host would load are analysed as plugins, so the model follows the host's configuration (and must be derived again
// when that configuration changes). gconv modules (iconv) only call libc's string, allocation and abort functions
// and are not added (docs/static-analysis.md).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProgramGraph } from "./programGraph.js";

const NSS_ENTRIES = [
  "getpwnam",
  "getpwuid",
  "getpwnam_r",
  "getpwuid_r",
  "getpwent",
  "getpwent_r",
  "getgrnam",
  "getgrgid",
  "getgrnam_r",
  "getgrgid_r",
  "getgrent",
  "getgrent_r",
  "getgrouplist",
  "initgroups",
  "getspnam",
  "getspnam_r",
  "gethostbyname",
  "gethostbyname2",
  "gethostbyname_r",
  "gethostbyname2_r",
  "gethostbyaddr",
  "gethostbyaddr_r",
  "getaddrinfo",
  "getnameinfo",
  "getservbyname",
  "getservbyname_r",
  "getservbyport",
  "getservbyport_r",
  "getprotobyname",
  "getprotobyname_r",
  "getprotobynumber",
  "getnetbyname",
  "getnetbyaddr",
  "getrpcbyname",
  "getrpcbynumber",
  "innetgr",
  "setnetgrent",
  "getnetgrent",
  "ether_ntohost",
  "ether_hostton",
  "getaliasbyname",
];
const UNWIND_ENTRIES = ["pthread_exit", "pthread_cancel", "backtrace", "__libc_pthread_exit"];
const BUILT_IN = new Set(["files", "dns"]);
const LIB_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"];

export interface LibcPluginOptions {
  nsswitch?: string;
  libDirs?: readonly string[];
}

/** Files of the modules glibc would load for this program on this host, not yet among the program's objects. */
export function libcPlugins(graph: ProgramGraph, options: LibcPluginOptions = {}): string[] {
  const libc = graph.objects.findIndex((o) => /(^|\/)libc\.so\.6$/.test(o.path));
  if (libc < 0) return [];
  const reachable = (names: readonly string[]): boolean =>
    names.some((n) => graph.resolveName(n).some((g) => graph.reachable[g] === 1));
  const dirs = options.libDirs ?? LIB_DIRS;
  const find = (file: string): string | undefined => dirs.map((d) => join(d, file)).find((p) => existsSync(p));
  const wanted: string[] = [];
  if (reachable(NSS_ENTRIES)) {
    for (const name of nssModules(options.nsswitch ?? "/etc/nsswitch.conf")) {
      const file = find(`libnss_${name}.so.2`);
      if (file !== undefined) wanted.push(file);
    }
  }
  if (reachable(UNWIND_ENTRIES)) {
    const file = find("libgcc_s.so.1");
    if (file !== undefined) wanted.push(file);
  }
  const have = new Set(graph.objects.map((o) => o.path));
  return [...new Set(wanted)].filter((p) => !have.has(p));
}

/** Service names in nsswitch.conf other than glibc's built-in ones. */
export function nssModules(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const rest = line.slice(colon + 1).replace(/\[[^\]]*\]/g, " ");
    for (const word of rest.split(/\s+/)) if (/^[a-z0-9_]+$/.test(word) && !BUILT_IN.has(word)) names.add(word);
  }
  return [...names];
}
