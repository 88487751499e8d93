// Watch's Prometheus metrics (prom-client), cheap by construction: nothing is done per event. Every figure the
// engine, the store queues and the outputs already count is read when Prometheus scrapes (collect() callbacks); only
// alerts and response actions, which are rare, are counted as they happen, in a plain Map (no label hashing on that
// path either). Names follow Prometheus' conventions: the homeostat_ prefix, _total for counters, base units
// (_seconds, _bytes). The process's own CPU, memory, file descriptors and event-loop lag are prom-client's default
// metrics, under their standard names (process_*, nodejs_*), which existing dashboards expect.

import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { HostAlert, HostMonitorStats, ProfileEntry } from "../../engine/hostMonitor.js";
import type { ResponseAction } from "../../response/responder.js";
import type { AlertOutputStats } from "./alertOutputs.js";

/** What the metrics read at scrape time; each a function, so that a scrape sees the figures of that moment. */
export interface WatchMetricsSource {
  monitor(): HostMonitorStats;
  profiles(): Iterable<ProfileEntry>;
  /** The newest event's time (epoch seconds), -Infinity before the first. */
  latestEventTime(): number;
  /** Queue depths by queue name (store_alerts, store_actions, ...). */
  queues(): Record<string, number>;
  outputs(): AlertOutputStats;
  /** Records the store could not take (its queue full), profile saves. */
  store(): { dropped: number; saves: number; profilesSaved: number };
}

type Collect = (this: Counter | Gauge) => void;

export class WatchMetrics {
  readonly registry = new Registry();
  private source: WatchMetricsSource | undefined;
  private readonly alerts = new Map<string, { rule: string; priority: string; n: number }>();
  private readonly actions = new Map<string, { kind: string; outcome: string; n: number }>();
  private lagEvents = -1;

  constructor(options: { defaultMetrics?: boolean; now?: () => number } = {}) {
    const now = options.now ?? (() => Date.now() / 1000);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.eventMetrics();
    this.recordMetrics();
    this.stateMetrics(now);
    this.outputMetrics();
  }

  /** The running watch the metrics read (until then they read as zero). */
  attach(source: WatchMetricsSource): void {
    this.source = source;
  }

  /** Counts one alert (by rule and priority). */
  alert(a: HostAlert): void {
    const key = `${a.priority}\u0000${a.rule}`;
    const c = this.alerts.get(key);
    if (c !== undefined) c.n++;
    else this.alerts.set(key, { rule: a.rule, priority: a.priority, n: 1 });
  }

  /** Counts one response action (by kind and outcome). */
  action(a: ResponseAction): void {
    const key = `${a.kind}\u0000${a.outcome}`;
    const c = this.actions.get(key);
    if (c !== undefined) c.n++;
    else this.actions.set(key, { kind: a.kind, outcome: a.outcome, n: 1 });
  }

  /** The text exposition format of every metric now. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  private counter(name: string, help: string, labelNames: string[], collect: Collect): void {
    new Counter({ name, help, labelNames, registers: [this.registry], collect });
  }

  private gauge(name: string, help: string, labelNames: string[], collect: Collect): void {
    new Gauge({ name, help, labelNames, registers: [this.registry], collect });
  }

  /** Sets a counter or gauge to `value` (per labels) at scrape time. */
  private static set(metric: Counter | Gauge, value: number, labels: Record<string, string> = {}): void {
    if (metric instanceof Gauge) metric.set(labels, value);
    else metric.inc(labels, value);
  }

  private eventMetrics(): void {
    const m = () => this.source?.monitor();
    const set = WatchMetrics.set;
    this.counter("homeostat_events_captured_total", "System-call events the capture delivered", [], function () {
      this.reset();
      set(this, m()?.events ?? 0);
    });
    this.counter("homeostat_events_processed_total", "Events scored against a profile", [], function () {
      this.reset();
      set(this, m()?.processed ?? 0);
    });
    this.counter("homeostat_events_lost_total", "Events lost, by where", ["site"], function () {
      this.reset();
      const lost = m()?.lost ?? { kernel: 0, capture: 0, monitor: 0 };
      for (const [site, n] of Object.entries(lost)) set(this, n, { site });
    });
    this.counter(
      "homeostat_events_skipped_total",
      "Events not scored, by reason (ignored: homeostat's own; unattributed: program unknown; dropped: over a limit)",
      ["reason"],
      function () {
        this.reset();
        const s = m();
        set(this, s?.ignored ?? 0, { reason: "ignored" });
        set(this, s?.unattributed ?? 0, { reason: "unattributed" });
        set(this, s?.dropped ?? 0, { reason: "dropped" });
      },
    );
  }

  private recordMetrics(): void {
    const set = WatchMetrics.set;
    const alerts = this.alerts;
    const actions = this.actions;
    this.counter("homeostat_alerts_total", "Alerts raised, by rule and priority", ["rule", "priority"], function () {
      this.reset();
      for (const a of alerts.values()) set(this, a.n, { rule: a.rule, priority: a.priority });
    });
    this.counter(
      "homeostat_response_actions_total",
      "Response actions, by kind (delay, kill, suspend-execve) and outcome (paused, killed, refused, ...)",
      ["kind", "outcome"],
      function () {
        this.reset();
        for (const a of actions.values()) set(this, a.n, { kind: a.kind, outcome: a.outcome });
      },
    );
    const store = () => this.source?.store();
    this.counter(
      "homeostat_store_dropped_total",
      "Alerts and actions the store's queue could not hold",
      [],
      function () {
        this.reset();
        set(this, store()?.dropped ?? 0);
      },
    );
    this.counter("homeostat_profile_saves_total", "Profiles written to the store", [], function () {
      this.reset();
      set(this, store()?.profilesSaved ?? 0);
    });
  }

  private stateMetrics(now: () => number): void {
    const set = WatchMetrics.set;
    const src = () => this.source;
    this.gauge("homeostat_profiles", "Profiles held, by lifecycle state", ["state"], function () {
      const n: Record<string, number> = { training: 0, frozen: 0, normal: 0 };
      for (const e of src()?.profiles() ?? []) n[e.profile.state] = (n[e.profile.state] ?? 0) + 1;
      for (const [state, v] of Object.entries(n)) set(this, v, { state });
    });
    this.gauge("homeostat_tasks", "Tasks (threads) tracked", [], function () {
      set(this, src()?.monitor().tasks ?? 0);
    });
    this.gauge("homeostat_queue_depth", "Items waiting, by queue", ["queue"], function () {
      this.reset();
      for (const [queue, v] of Object.entries(src()?.queues() ?? {})) set(this, v, { queue });
    });
    const lag = (): number => {
      const s = src();
      if (s === undefined) return 0;
      const events = s.monitor().events;
      const moved = events !== this.lagEvents;
      this.lagEvents = events;
      const t = s.latestEventTime();
      return moved && Number.isFinite(t) ? Math.max(0, now() - t) : 0;
    };
    this.gauge(
      "homeostat_event_lag_seconds",
      "Age of the newest event processed when scraped (0 when no event came since the last scrape)",
      [],
      function () {
        set(this, lag());
      },
    );
  }

  private outputMetrics(): void {
    const set = WatchMetrics.set;
    const out = () => this.source?.outputs() ?? {};
    this.counter("homeostat_alerts_delivered_total", "Alerts an output delivered", ["output"], function () {
      this.reset();
      const o = out();
      if (o.http !== undefined) set(this, o.http.delivered, { output: "http" });
      if (o.syslog !== undefined) set(this, o.syslog.sent, { output: "syslog" });
    });
    this.counter(
      "homeostat_alert_delivery_failures_total",
      "Failed attempts to deliver (each retried later)",
      ["output"],
      function () {
        this.reset();
        const o = out();
        if (o.http !== undefined) set(this, o.http.failures, { output: "http" });
        if (o.syslog !== undefined) set(this, o.syslog.failures, { output: "syslog" });
      },
    );
    this.counter(
      "homeostat_alerts_undelivered_total",
      "Alerts an output gave up: spool overflow, refused by the receiver (4xx), syslog queue full",
      ["output", "reason"],
      function () {
        this.reset();
        const o = out();
        if (o.http !== undefined) set(this, o.http.overflowed, { output: "http", reason: "spool_overflow" });
        if (o.http !== undefined) set(this, o.http.rejected, { output: "http", reason: "rejected" });
        if (o.syslog !== undefined) set(this, o.syslog.dropped, { output: "syslog", reason: "queue_full" });
      },
    );
    this.gauge("homeostat_alert_spool_bytes", "Bytes of alerts waiting in the spool", [], function () {
      set(this, out().http?.spoolBytes ?? 0);
    });
  }
}
