// One static analysis as the worker runs it (analysisWorker.ts): the executable checked to be the file that ran
// (device and inode, before and after), analysed (staticAnalysis.ts; with `digraph`, Wagner & Dean's pairs too), and
// returned as what watch keeps: the set, whether it is complete and why not, and a stamp of every file it came from,
// so that a change of the executable or of a library can be noticed later. Failures become typed outcomes.

import { statSync } from "node:fs";
import { HomeostatError } from "../errors.js";

/** A file as it was when analysed: a different stamp means the file changed (a new inode, or rewritten in place). */
export interface FileStamp {
  path: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** What watch keeps of a StaticModel (staticModel.ts): the set, whether it is complete and why not, and stamps. */
export interface StaticSummary {
  /** The analysed executable. */
  program: string;
  /** x86_64 system-call numbers the code can make (with the always-allowed ones), sorted; and their names. */
  syscalls: number[];
  names: string[];
  /** The digraph, flattened (a0, b0, a1, b1, ...: b may follow a), when it was built. */
  pairs?: number[];
  complete: boolean;
  /** Reachable syscall sites whose number was not resolved, and reachable dlopen calls (plugins not analysed). */
  unresolved: number;
  dlopen: number;
  /** A few of those sites, described ("object+0xaddr (function): reason"). */
  sites: string[];
  objects: { path: string; role: string; buildId?: string; cached: boolean }[];
  /** The executable and every library analysed, as they were on disk (the vDSO has no file). */
  files: FileStamp[];
  milliseconds: number;
}

export interface AnalysisJob {
  /** The executable's absolute path, and the device and inode of the file that ran. */
  path: string;
  dev: number;
  ino: number;
}

export type AnalysisOutcome = { ok: true; model: StaticSummary } | { ok: false; code: string; message: string };

const SITES_SHOWN = 5;

export function stampOf(path: string): FileStamp {
  const st = statSync(path);
  return { path, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

/** Whether the file at `stamp.path` is still the one stamped. */
export function sameFile(stamp: FileStamp): boolean {
  try {
    const now = stampOf(stamp.path);
    return (
      now.dev === stamp.dev &&
      now.ino === stamp.ino &&
      now.size === stamp.size &&
      now.mtimeMs === stamp.mtimeMs &&
      now.ctimeMs === stamp.ctimeMs
    );
  } catch {
    return false;
  }
}

type Analyze = typeof import("./staticAnalysis.js").analyzeProgram;
type Cache = import("./summaryCache.js").SummaryCache;

const FS_CODES: Record<string, string> = {
  ENOENT: "E_NOT_FOUND",
  ENOTDIR: "E_NOT_FOUND",
  EACCES: "E_PERMISSION",
  EPERM: "E_PERMISSION",
};

/** A failure as an outcome: typed errors keep their code, file-system errors get the matching one. */
export function failure(err: unknown): AnalysisOutcome {
  if (err instanceof HomeostatError) return { ok: false, code: err.code, message: err.oneLine() };
  const e = err as { code?: unknown; message?: unknown; syscall?: unknown };
  const code = typeof e?.code === "string" ? e.code : "";
  return {
    ok: false,
    code: code.startsWith("E_") ? code : (FS_CODES[code] ?? (typeof e?.syscall === "string" ? "E_IO" : "E_INTERNAL")),
    message: typeof e?.message === "string" ? e.message : String(err),
  };
}

/** One analysis, as the worker runs it (exported for the worker's own use; the main thread uses the client). */
export function analyseJob(
  job: AnalysisJob,
  analyze: Analyze,
  cache: Cache | undefined,
  digraph = false,
): AnalysisOutcome {
  const changed = (what: string): AnalysisOutcome => ({
    ok: false,
    code: "E_NOT_FOUND",
    message: `${job.path}: the file there ${what} is not the one that ran (device ${job.dev}, inode ${job.ino})`,
  });
  try {
    const before = stampOf(job.path);
    if (before.dev !== job.dev || before.ino !== job.ino) return changed("now");
    const model = analyze(job.path, { digraph, ...(cache !== undefined ? { cache } : {}) });
    const exe = stampOf(job.path);
    if (exe.dev !== before.dev || exe.ino !== before.ino || exe.ctimeMs !== before.ctimeMs)
      return changed("changed during the analysis and");
    const files = [exe];
    const seen = new Set([job.path]);
    for (const o of model.objects) {
      if (o.role === "vdso" || seen.has(o.path)) continue;
      seen.add(o.path);
      files.push(stampOf(o.path));
    }
    const sites = [...model.unresolved, ...model.dlopen]
      .slice(0, SITES_SHOWN)
      .map(
        (s) =>
          `${s.object}+0x${s.address.toString(16)}${s.function !== undefined ? ` (${s.function})` : ""}: ${s.reason}`,
      );
    return {
      ok: true,
      model: {
        program: model.program,
        syscalls: model.syscalls,
        names: model.names,
        ...(model.pairs !== undefined ? { pairs: model.pairs.flat() } : {}),
        complete: model.complete,
        unresolved: model.unresolved.length,
        dlopen: model.dlopen.length,
        sites,
        objects: model.objects.map((o) => ({
          path: o.path,
          role: o.role,
          ...(o.buildId !== undefined ? { buildId: o.buildId } : {}),
          cached: o.cached,
        })),
        files,
        milliseconds: model.stats.milliseconds,
      },
    };
  } catch (err) {
    return failure(err);
  }
}
