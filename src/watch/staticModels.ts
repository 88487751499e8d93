// Static models in a watch (Wagner & Dean's set and digraph models, derived from each executable's binary by
// src/static): each new executable's stored model is used while the files it came from are unchanged, else the
// binary is analysed in one worker thread with a bounded queue; the engine checks every call against the model from
// then on. Models are stored beside the profiles with a stamp of every file they were derived from, and re-derived
// when one changed (a library upgraded under running processes makes the model the union of the old and new
// analyses, since both versions may be mapped). A model whose executable's path now names another file stays.

import { statSync } from "node:fs";
import { join } from "node:path";
import type { ExeIdentity } from "../capture/hostEvents.js";
import type { HostMonitor, ProfileEntry, StaticSyscallSet } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import { type FileStamp, sameFile, StaticAnalysisWorker, type StaticSummary } from "../static/analysisWorker.js";
import type { StateStore, StaticModelRecord } from "../store/stateStore.js";

/** Static models: off, alert on calls outside them, or also kill the process (complete models only). */
export type StaticPolicy = "off" | "alert" | "kill";
export const STATIC_POLICIES: readonly StaticPolicy[] = ["off", "alert", "kill"];

export interface StaticModelsOptions {
  store: StateStore;
  /** Check pairs of consecutive calls against the digraph too (else the set alone). */
  digraph: boolean;
  cacheDir?: string;
  maxPending?: number;
  /** A stored model could not be read: it is analysed again. */
  onWarning?: (message: string) => void;
  /** An analysis outcome could not be applied: watch must stop and report it. */
  onFailure: (err: unknown) => void;
}

/** What became of the executables' models. */
export interface StaticModelCounts {
  /** Models taken from the store (their files unchanged), and analyses run in this watch. */
  fromStore: number;
  analysed: number;
  /** Analyses that failed (not ELF, a library missing, a timeout...), and executables left out of a full queue. */
  failed: number;
  dropped: number;
  /** Models re-derived because a file they came from changed. */
  reanalysed: number;
  /** Analyses still queued or running when watch ended (their executables were not checked). */
  unfinished: number;
}

export class WatchStaticModels {
  readonly counts: StaticModelCounts = {
    fromStore: 0,
    analysed: 0,
    failed: 0,
    dropped: 0,
    reanalysed: 0,
    unfinished: 0,
  };
  /** The summary behind each attached model (its stamps, for staleness; its set, for a union after a change). */
  private readonly summaries = new Map<string, StaticSummary>();
  private readonly unsaved: StaticModelRecord[] = [];
  private analyzer: StaticAnalysisWorker | undefined;
  private monitorRef: HostMonitor | undefined;

  constructor(private readonly options: StaticModelsOptions) {}

  /** The engine the models are attached to (it is built with `onProfileAdded` as one of its callbacks). */
  attachTo(monitor: HostMonitor): void {
    this.monitorRef = monitor;
  }

  private get monitor(): HostMonitor {
    if (this.monitorRef === undefined) throw new Error("static models used before attachTo(monitor)");
    return this.monitorRef;
  }

  /** A new profile entry: its stored model when its files are unchanged, else an analysis. */
  readonly onProfileAdded = (entry: ProfileEntry): void => {
    const { key, exe } = entry;
    if (!exe.path.startsWith("/") || exe.ino === 0) {
      this.monitor.staticModelUnavailable(
        key,
        "the executable's file is not known (no absolute path, device and inode)",
        "E_NOT_FOUND",
      );
      return;
    }
    const stored = this.storedModel(key);
    if (stored !== undefined && this.options.digraph && stored.pairs === undefined) {
      // Derived without its digraph (by a set-only watch): derived again, with it.
      this.counts.reanalysed++;
      this.analyse(entry, undefined);
      return;
    }
    if (stored !== undefined) {
      if (staleness(exe, stored.files) !== "stale") {
        this.counts.fromStore++;
        this.attach(key, exe.path, stored, false);
        return;
      }
      this.counts.reanalysed++;
    }
    this.analyse(entry, stored !== undefined ? mappedStill(stored) : undefined);
  };

  /** Models whose files changed since they were derived (a library upgraded): re-derived, merged with the old. */
  revalidate(): void {
    for (const [key, summary] of this.summaries) {
      const entry = this.monitor.profile(key);
      if (entry === undefined || staleness(entry.exe, summary.files) !== "stale") continue;
      this.summaries.delete(key);
      this.counts.reanalysed++;
      this.monitor.detachStaticModel(key);
      this.analyse(entry, mappedStill(summary));
    }
  }

  /** Stores the models derived since the last flush. */
  flush(): void {
    if (this.unsaved.length > 0) this.options.store.saveStaticModels(this.unsaved.splice(0));
  }

  /** Waits (at most `ms`) for analyses still queued or running: the calls their executables made are checked then. */
  async drain(ms: number): Promise<void> {
    if (this.analyzer !== undefined) await this.analyzer.drain(ms);
  }

  /** Ends the worker; what it had not finished is counted. */
  async close(): Promise<void> {
    if (this.analyzer !== undefined) this.counts.unfinished = await this.analyzer.close();
  }

  private storedModel(key: string): StaticSummary | undefined {
    try {
      const row = this.options.store.loadStaticModel(key);
      return row !== undefined ? storedSummary(row.syscalls, row.complete, row.detail) : undefined;
    } catch (err) {
      if (!isHomeostatError(err)) throw err;
      this.options.onWarning?.(
        `stored static model of ${key} cannot be read (${err.oneLine()}); analysing the binary again`,
      );
      return undefined;
    }
  }

  private attach(key: string, exe: string, summary: StaticSummary, save: boolean): void {
    this.summaries.set(key, summary);
    this.monitor.attachStaticModel(key, staticSet(summary));
    if (save) this.unsaved.push({ key, exe, complete: summary.complete, syscalls: summary.syscalls, detail: summary });
  }

  /** Analyses the executable of `entry`; `previous` (a model whose files changed) is merged into the new one. */
  private analyse(entry: ProfileEntry, previous: StaticSummary | undefined): void {
    const { key, exe } = entry;
    this.analyzer ??= new StaticAnalysisWorker({
      cacheDir: this.options.cacheDir ?? join(this.options.store.dir, "static-cache"),
      digraph: this.options.digraph,
      ...(this.options.maxPending !== undefined ? { maxPending: this.options.maxPending } : {}),
    });
    const queued = this.analyzer.submit({ path: exe.path, dev: exe.dev, ino: exe.ino }, (outcome) => {
      try {
        if (this.monitor.profile(key) === undefined) return;
        if (outcome.ok) {
          this.counts.analysed++;
          const model = previous !== undefined ? unionOf(previous, outcome.model) : outcome.model;
          this.attach(key, exe.path, model, true);
        } else {
          this.counts.failed++;
          this.summaries.delete(key);
          this.monitor.staticModelUnavailable(key, `static analysis failed: ${outcome.message}`, outcome.code);
        }
      } catch (err) {
        this.options.onFailure(err);
      }
    });
    if (!queued) {
      this.counts.dropped++;
      this.summaries.delete(key);
      this.monitor.staticAnalysisDropped(key);
    }
  }
}

/** The engine's view of an analysis. */
function staticSet(s: StaticSummary): StaticSyscallSet {
  const pairs = s.pairs !== undefined ? { pairs: s.pairs } : {};
  if (s.complete) return { syscalls: s.syscalls, ...pairs, complete: true };
  const why: string[] = [];
  if (s.unresolved > 0) why.push(`${s.unresolved} syscall site${s.unresolved === 1 ? "" : "s"} not resolved`);
  if (s.dlopen > 0) why.push(`${s.dlopen} dlopen call${s.dlopen === 1 ? "" : "s"} of plugins not analysed`);
  return {
    syscalls: s.syscalls,
    ...pairs,
    complete: false,
    incomplete: why.length > 0 ? why.join(", ") : "the analysis may have missed calls",
  };
}

/**
 * The old model when running processes may still map the code it came from: a library replaced under them (a new
 * file at the path; the old one stays mapped). Not when the executable itself was rewritten in place, which Linux
 * refuses while it runs (ETXTBSY): its old code runs nowhere.
 */
function mappedStill(old: StaticSummary): StaticSummary | undefined {
  const exe = old.files[0];
  return exe !== undefined && sameFile(exe) ? old : undefined;
}

/** A model for code that may be either of two analyses (old and new libraries mapped at once): the union. */
function unionOf(old: StaticSummary, fresh: StaticSummary): StaticSummary {
  const all = new Set([...old.syscalls, ...fresh.syscalls]);
  const pairs = unionPairs(old.pairs, fresh.pairs);
  if (all.size === fresh.syscalls.length && pairs === fresh.pairs) return fresh;
  const names = new Map<number, string>();
  old.syscalls.forEach((n, i) => names.set(n, old.names[i] ?? `syscall_${n}`));
  fresh.syscalls.forEach((n, i) => names.set(n, fresh.names[i] ?? `syscall_${n}`));
  const syscalls = [...all].sort((a, b) => a - b);
  const { pairs: _dropped, ...rest } = fresh;
  return {
    ...rest,
    syscalls,
    names: syscalls.map((n) => names.get(n)!),
    ...(pairs !== undefined ? { pairs } : {}),
    complete: old.complete && fresh.complete,
  };
}

/** The union of two flattened digraphs (`fresh` itself when it holds them all); none when either has none. */
function unionPairs(old: number[] | undefined, fresh: number[] | undefined): number[] | undefined {
  if (old === undefined || fresh === undefined) return undefined;
  const keys = new Set<number>();
  for (let i = 0; i + 1 < fresh.length; i += 2) keys.add(fresh[i]! * 65_536 + fresh[i + 1]!);
  const size = keys.size;
  for (let i = 0; i + 1 < old.length; i += 2) keys.add(old[i]! * 65_536 + old[i + 1]!);
  if (keys.size === size) return fresh;
  return [...keys].sort((a, b) => a - b).flatMap((k) => [Math.floor(k / 65_536), k % 65_536]);
}

/** A stored model's summary, or undefined when its detail is not one this build wrote (it is analysed anew). */
function storedSummary(syscalls: number[], complete: boolean, detail: unknown): StaticSummary | undefined {
  const d = detail as Partial<StaticSummary> | null;
  if (d === null || typeof d !== "object" || !Array.isArray(d.files) || !Array.isArray(d.names)) return undefined;
  return { ...(d as StaticSummary), syscalls, complete };
}

/**
 * Whether a model still describes its executable: "valid" while every file it came from is unchanged; "stale" when
 * one changed and the executable at its path is still the file that ran (it can be analysed again); "orphan" when
 * the path now names another file: the one that ran cannot be analysed by its path any more, the model stays.
 */
export function staleness(exe: ExeIdentity, files: readonly FileStamp[]): "valid" | "stale" | "orphan" {
  try {
    const st = statSync(exe.path);
    if (st.dev !== exe.dev || st.ino !== exe.ino) return "orphan";
  } catch {
    return "orphan";
  }
  return files.every(sameFile) ? "valid" : "stale";
}
