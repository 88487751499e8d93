// A watch's row in the state store's runs table, which the web console's overview reads: when this watch started,
// its figures so far (updated with each periodic save), and at its end its summary. The row is a convenience for
// people looking in, never a condition of watching: a write that fails (a full disk, a database locked too long) is
// a warning, said once until a write succeeds again, and the row is written at the next chance (a start that could
// not be recorded is recorded with the first update that can be, so that the end's summary still lands).

import type { HostMonitorStats } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import type { RunFigures, StateStore } from "../store/stateStore.js";

export interface WatchRunOptions {
  store: StateStore;
  backend: string;
  /** Epoch seconds. */
  startedAt: number;
  onWarning?: ((message: string) => void) | undefined;
}

export class WatchRun {
  private id: number | undefined;
  private failing = false;

  constructor(private readonly options: WatchRunOptions) {}

  /** Records the start (a failure is a warning). */
  begin(): void {
    this.attempt(() => this.rowId());
  }

  /** The figures so far, from the engine's counters. */
  update(stats: HostMonitorStats): void {
    this.attempt(() => this.options.store.updateRun(this.rowId(), figuresOf(stats)));
  }

  /** The end: the run's figures and its summary (or, when watch failed, what the failure was). */
  end(stats: HostMonitorStats, summary: unknown, endedAt = Date.now() / 1000): void {
    this.attempt(() => this.options.store.updateRun(this.rowId(), { ...figuresOf(stats), endedAt, summary }));
  }

  /** The run's id in the store, once its start is recorded. */
  get runId(): number | undefined {
    return this.id;
  }

  private rowId(): number {
    const { store, backend, startedAt } = this.options;
    this.id ??= store.beginRun({ pid: process.pid, backend, startedAt });
    return this.id;
  }

  private attempt(write: () => void): void {
    try {
      write();
      this.failing = false;
    } catch (err) {
      // Whatever went wrong (a HomeostatError from the store, or anything else), watching goes on.
      if (this.failing) return;
      this.failing = true;
      const why = isHomeostatError(err) ? err.oneLine() : String(err);
      this.options.onWarning?.(
        `cannot record this run in the state database (${why}); watching goes on, and the run is recorded when it can be`,
      );
    }
  }
}

/** The figures a run row keeps: events received, events lost wherever they were lost, alerts raised. */
export function figuresOf(stats: HostMonitorStats): RunFigures {
  const lost = Object.values(stats.lost).reduce((a, b) => a + b, 0);
  return { events: stats.events, lost, alerts: stats.alerts };
}
