// Static analysis off the main thread, for `homeostat watch`: one worker thread (node:worker_threads) runs each
// new executable's analysis (analysisJob.ts), so that the capture's events keep flowing while it works. Bounded:
// one worker, one analysis at a time, at most `maxPending` waiting (64 by default); a job beyond is refused and
// counted (`submit` returns false), never queued without limit. An analysis over `timeoutMs`, or one that crashes
// the worker (out of its memory limit, an exception), fails that job alone: the worker is replaced for the next.
//
// This module is both the worker's body and its client. The worker runs the compiled JavaScript (dist/static/
// analysisWorker.js): under vitest, where this file is TypeScript, the client finds the build beside src/ (`npm run
// build` first); no TypeScript loader is needed in the worker.

import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { HomeostatError } from "../errors.js";
import { type AnalysisJob, type AnalysisOutcome, analyseJob, failure } from "./analysisJob.js";

export {
  type AnalysisJob,
  type AnalysisOutcome,
  analyseJob,
  type FileStamp,
  sameFile,
  type StaticSummary,
  stampOf,
} from "./analysisJob.js";

interface WorkerRequest {
  id: number;
  job: AnalysisJob;
}

interface WorkerReply {
  id: number;
  outcome: AnalysisOutcome;
}

interface WorkerConfig {
  homeostatStaticAnalysis: true;
  cacheDir?: string;
  digraph?: boolean;
}

// ------------------------------------------------------------------------------------------------ the worker

async function serve(config: WorkerConfig): Promise<void> {
  const port = parentPort!;
  const { analyzeProgram } = await import("./staticAnalysis.js");
  const { directoryCache } = await import("./summaryCache.js");
  const cache = config.cacheDir !== undefined ? directoryCache(config.cacheDir) : undefined;
  port.on("message", (req: WorkerRequest) => {
    const reply: WorkerReply = {
      id: req.id,
      outcome: analyseJob(req.job, analyzeProgram, cache, config.digraph === true),
    };
    port.postMessage(reply);
  });
}

if (!isMainThread && (workerData as WorkerConfig | undefined)?.homeostatStaticAnalysis === true) {
  await serve(workerData as WorkerConfig);
}

// ------------------------------------------------------------------------------------------------ the client

/**
 * The worker's script: this module's compiled JavaScript. From dist/ that is this very file; under vitest (this
 * file is src/static/analysisWorker.ts) it is dist/static/analysisWorker.js beside src/, built by `npm run build`.
 */
export function analysisWorkerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return new URL(import.meta.url);
  const m = /^(.*)[\\/]src([\\/]static[\\/]analysisWorker)\.ts$/.exec(here);
  if (m === null)
    throw new HomeostatError(
      "E_DEPENDENCY",
      `cannot tell where the built static-analysis worker is (this module is ${here})`,
    );
  return pathToFileURL(`${m[1]}/dist${m[2]!.replaceAll("\\", "/")}.js`);
}

export interface AnalysisWorkerOptions {
  /** Directory of the summary cache (directoryCache); none: every analysis starts cold. */
  cacheDir?: string;
  /** Build the digraph too (each summary then carries its pairs). */
  digraph?: boolean;
  /** Jobs waiting at most besides the one running (default 64); submit refuses beyond. */
  maxPending?: number;
  /** Milliseconds one analysis may take before the worker is replaced and the job fails (default 120 s). */
  timeoutMs?: number;
  /** The worker's heap limit in MiB (default 2048): a binary too big to analyse fails alone. */
  maxHeapMb?: number;
  /** The worker script (default analysisWorkerScript()). */
  script?: URL;
}

export interface AnalysisWorkerStats {
  submitted: number;
  /** Jobs refused because maxPending were waiting. */
  overflow: number;
  analysed: number;
  failed: number;
  /** Of the failures: timeouts and worker crashes (the worker was replaced). */
  crashed: number;
}

interface Job {
  id: number;
  job: AnalysisJob;
  done: (outcome: AnalysisOutcome) => void;
}

/** One worker thread analysing executables one at a time, with a bounded queue. */
export class StaticAnalysisWorker {
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private readonly queue: Job[] = [];
  private running: { job: Job; timer: NodeJS.Timeout } | undefined;
  private worker: Worker | undefined;
  private nextId = 1;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Jobs finished whose `done` has not run yet. */
  private delivering = 0;
  readonly stats: AnalysisWorkerStats = { submitted: 0, overflow: 0, analysed: 0, failed: 0, crashed: 0 };

  constructor(private readonly options: AnalysisWorkerOptions = {}) {
    this.maxPending = options.maxPending ?? 64;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    if (!(Number.isInteger(this.maxPending) && this.maxPending >= 0)) {
      throw new HomeostatError("E_USAGE", `maxPending must be an integer >= 0, got ${this.maxPending}`);
    }
  }

  /** Jobs waiting, running, or finished with their outcome not delivered yet. */
  get pending(): number {
    return this.queue.length + (this.running !== undefined ? 1 : 0) + this.delivering;
  }

  /**
   * Queues an analysis; `done` is called with its outcome (asynchronously, always once, unless the worker is closed
   * first). False, and nothing queued, when maxPending jobs are waiting already (counted in stats.overflow).
   */
  submit(job: AnalysisJob, done: (outcome: AnalysisOutcome) => void): boolean {
    if (this.closed) throw new HomeostatError("E_USAGE", "the static analysis worker is closed");
    if (this.running !== undefined && this.queue.length >= this.maxPending) {
      this.stats.overflow++;
      return false;
    }
    this.stats.submitted++;
    this.queue.push({ id: this.nextId++, job, done });
    this.dispatch();
    return true;
  }

  /** One analysis as a promise (tests, one-off use); rejects when the queue is full. */
  analyse(job: AnalysisJob): Promise<AnalysisOutcome> {
    return new Promise((resolve, reject) => {
      if (!this.submit(job, resolve)) reject(new HomeostatError("E_LIMIT", "the static analysis queue is full"));
    });
  }

  /** Resolves true once nothing is waiting or running, or false after `timeoutMs` with work left. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.idleWaiters.push(waiter);
    });
  }

  /** Stops the worker; jobs still waiting or running are abandoned (their `done` is not called). Returns how many. */
  async close(): Promise<number> {
    this.closed = true;
    const abandoned = this.pending;
    this.queue.length = 0;
    if (this.running !== undefined) clearTimeout(this.running.timer);
    this.running = undefined;
    const w = this.worker;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
    for (const waiter of this.idleWaiters.splice(0)) waiter();
    return abandoned;
  }

  private dispatch(): void {
    if (this.running !== undefined || this.closed) return;
    const next = this.queue.shift();
    if (next === undefined) {
      this.worker?.unref();
      if (this.delivering === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
      return;
    }
    let worker: Worker;
    try {
      worker = this.worker ?? this.spawn();
    } catch (err) {
      this.finish(next, failure(err), false);
      return;
    }
    worker.ref();
    const timer = setTimeout(() => {
      this.replaceWorker();
      this.finish(
        next,
        {
          ok: false,
          code: "E_LIMIT",
          message: `${next.job.path}: the analysis took longer than ${this.timeoutMs / 1000} s`,
        },
        true,
      );
    }, this.timeoutMs);
    this.running = { job: next, timer };
    worker.postMessage({ id: next.id, job: next.job } satisfies WorkerRequest);
  }

  private spawn(): Worker {
    const script = this.options.script ?? analysisWorkerScript();
    if (script.protocol === "file:" && !existsSync(fileURLToPath(script))) {
      throw new HomeostatError(
        "E_DEPENDENCY",
        `the static analysis worker ${fileURLToPath(script)} is missing (npm run build makes it)`,
      );
    }
    const config: WorkerConfig = {
      homeostatStaticAnalysis: true,
      ...(this.options.cacheDir !== undefined ? { cacheDir: this.options.cacheDir } : {}),
      ...(this.options.digraph === true ? { digraph: true } : {}),
    };
    const worker = new Worker(script, {
      workerData: config,
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 2048 },
      stdout: false,
      stderr: false,
    });
    worker.on("message", (reply: WorkerReply) => {
      if (worker !== this.worker) return;
      const r = this.running;
      if (r === undefined || r.job.id !== reply.id) return;
      clearTimeout(r.timer);
      this.finish(r.job, reply.outcome, false);
    });
    const crashed = (why: string) => {
      if (worker !== this.worker) return;
      this.worker = undefined;
      const r = this.running;
      if (r !== undefined) {
        clearTimeout(r.timer);
        this.finish(
          r.job,
          { ok: false, code: "E_INTERNAL", message: `${r.job.job.path}: the analysis stopped its worker (${why})` },
          true,
        );
      } else this.dispatch();
    };
    worker.on("error", (err) => crashed(err.message));
    worker.on("exit", (code) => crashed(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private replaceWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    void w?.terminate();
  }

  private finish(job: Job, outcome: AnalysisOutcome, crashed: boolean): void {
    this.running = undefined;
    if (outcome.ok) this.stats.analysed++;
    else this.stats.failed++;
    if (crashed) this.stats.crashed++;
    // Asynchronously, also for a failure found at once, so that `done` never runs inside `submit`; the next job
    // (or the news that the queue is empty, for `drain`) after it.
    this.delivering++;
    setImmediate(() => {
      this.delivering--;
      if (this.closed) return;
      job.done(outcome);
      this.dispatch();
    });
  }
}
