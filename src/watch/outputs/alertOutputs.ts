// Watch's alert outputs as plugins, Falco's way: the engine only hands alerts over (no I/O in src/engine), and each
// output configured takes them: `--alerts-http` (a spool on disk, alertSpool.ts, drained by httpAlertSink.ts, both
// in a worker thread: httpWorker.ts) and `--alerts-syslog` (syslogSink.ts). Each alert is turned into JSON once, for
// all of them (watch shares that JSON with the store too). A SIGHUP gives a new
// configuration (reconfigure): outputs whose settings changed are opened anew (the spool stays: what waits in it
// goes to the new URL), the others reconnect or retry at once. What overflows the spool is reported by an alert of
// its own ("alert spool overflow"), at most once a minute while it lasts, through the engine's `raise`. The HTTP
// output is opened (startHttp) and closed (close) under the state directory's writer lock: hostWatch closes it.

import type { HostAlert, HostMonitor } from "../../engine/hostMonitor.js";
import { type Clock, systemClock } from "../../response/clock.js";
import { AlertSpool } from "./alertSpool.js";
import type { BackoffOptions } from "./backoff.js";
import { HttpAlertSink } from "./httpAlertSink.js";
import { type PipelinedPost, pipelinedPoster } from "./httpPipeline.js";
import { type HttpOutputFigures, HttpOutputWorker } from "./httpWorker.js";
import { SyslogFormatter } from "./syslogFormat.js";
import { type SyslogOutput, SyslogSink, type SyslogStats } from "./syslogSink.js";

export const SPOOL_OVERFLOW_RULE = "alert spool overflow";

export interface AlertOutputsConfig {
  /** `pipeline`: POSTs in flight at most on the connection (default DEFAULT_PIPELINE; 1: one at a time). */
  http?: { url: URL; spoolMaxBytes: number; pipeline?: number };
  syslog?: { path: string; facility: number };
}

export interface AlertOutputsOptions {
  /** The spool's folder (watch: `<state>/spool`). */
  spoolDir: string;
  /** Milliseconds one POST may take (default 10 s). */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Replaces the HTTP client (tests). */
  post?: PipelinedPost;
  userAgent?: string;
  /**
   * Where the HTTP output's spool and sender run: "worker" (a worker thread, off the engine's; the default) or
   * "main" (this thread; the default when `post` or `clock` is given, which cannot cross to a worker).
   */
  thread?: "worker" | "main";
}

/** What the outputs did, for the summary and the metrics. */
export interface AlertOutputStats {
  http?: HttpOutputFigures & { url: string };
  syslog?: SyslogStats & { path: string; queued: number; socket: "stream" | "datagram" };
}

/** The HTTP output's spool and sender, in a worker (httpWorker.ts) or on this thread (InProcessHttp). */
interface HttpChannel {
  readonly target: URL;
  /** Queues one alert's JSON (written to the spool with the others of this turn). */
  append(json: string): void;
  retarget(url: URL): void;
  retryNow(): void;
  readonly stats: HttpOutputFigures;
  close(drainMs: number): Promise<void>;
}

interface HttpOutput {
  config: NonNullable<AlertOutputsConfig["http"]>;
  channel: HttpChannel;
}

/** The spool and its sender on this thread (tests with a manual clock or a fake client). */
class InProcessHttp implements HttpChannel {
  constructor(
    private readonly spool: AlertSpool,
    private readonly sink: HttpAlertSink,
    private readonly closePoster: () => void,
  ) {}

  get target(): URL {
    return this.sink.target;
  }

  append(json: string): void {
    if (this.spool.append(json)) this.sink.kick();
  }

  retarget(url: URL): void {
    this.sink.retarget(url);
  }

  retryNow(): void {
    this.sink.retryNow();
  }

  get stats(): HttpOutputFigures {
    const sp = this.spool.stats;
    return {
      ...this.sink.stats,
      spooled: sp.appended,
      spoolPending: sp.pendingRecords,
      spoolBytes: sp.pendingBytes,
      overflowed: sp.overflowed,
      replayed: sp.replayed,
    };
  }

  async close(drainMs: number): Promise<void> {
    try {
      await this.sink.close(drainMs);
    } finally {
      this.closePoster();
      await this.spool.close();
    }
  }
}

export class AlertOutputs {
  private http: HttpOutput | undefined;
  private syslog:
    { config: NonNullable<AlertOutputsConfig["syslog"]>; sink: SyslogOutput; format: SyslogFormatter } | undefined;
  private reportedOverflow = 0;
  private overflowAlertAt = Number.NEGATIVE_INFINITY;
  private readonly clock: Clock;

  /**
   * Opens the syslog output (a failure to connect throws, before anything else is started). The HTTP output is
   * opened by startHttp, once the state directory is locked: its spool belongs to one watch at a time.
   */
  static async open(config: AlertOutputsConfig, options: AlertOutputsOptions): Promise<AlertOutputs> {
    const outputs = new AlertOutputs(options);
    await outputs.reconfigureSyslog(config.syslog);
    return outputs;
  }

  /** Opens the HTTP output and its spool (synchronously: ready before the first event); what waits is sent first. */
  startHttp(config: AlertOutputsConfig["http"]): void {
    if (config !== undefined && this.http === undefined) this.http = this.openHttp(config);
  }

  private constructor(private readonly options: AlertOutputsOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Outputs are configured (an alert is worth turning into JSON). */
  get active(): boolean {
    return this.http !== undefined || this.syslog !== undefined;
  }

  /** One alert to every output; `json` is its JSON when the caller made it already (JSON.stringify(alert)). */
  alert(alert: HostAlert, json: string = this.active ? JSON.stringify(alert) : ""): void {
    if (!this.active) return;
    this.http?.channel.append(json);
    if (this.syslog !== undefined) {
      const [head, body] = this.syslog.format.parts(alert, json);
      this.syslog.sink.send(head, body);
    }
  }

  /**
   * Periodic: the overflow alert when alerts did not fit the spool since the last one (at most once a minute, unless
   * `final`: watch is ending and says what is left unsaid).
   */
  tick(monitor: Pick<HostMonitor, "raise">, final = false): void {
    const http = this.http;
    if (http === undefined) return;
    const s = http.channel.stats;
    const total = s.overflowed;
    const now = this.clock.now();
    if (total <= this.reportedOverflow || (!final && now - this.overflowAlertAt < 60_000)) return;
    const n = total - this.reportedOverflow;
    this.reportedOverflow = total;
    this.overflowAlertAt = now;
    monitor.raise(
      SPOOL_OVERFLOW_RULE,
      "Error",
      `${n} alerts did not fit the alert spool (${http.config.spoolMaxBytes} bytes) while ${http.channel.target.href} ` +
        `was failing (${s.lastError ?? "slow"}); they are not delivered there (${total} in total), only shown and stored`,
      {
        "homeostat.spool_overflow": n,
        "homeostat.spool_overflow_total": total,
        "homeostat.alerts_url": http.channel.target.href,
      },
      ["delivery"],
    );
  }

  /** Applies a configuration (at start, and on SIGHUP); a part that cannot be opened throws and keeps the old one. */
  async reconfigure(config: AlertOutputsConfig): Promise<void> {
    await this.reconfigureSyslog(config.syslog);
    await this.reconfigureHttp(config.http);
  }

  private async reconfigureHttp(config: AlertOutputsConfig["http"]): Promise<void> {
    const old = this.http;
    if (
      old !== undefined &&
      config !== undefined &&
      old.config.spoolMaxBytes === config.spoolMaxBytes &&
      old.config.pipeline === config.pipeline
    ) {
      if (old.config.url.href === config.url.href) old.channel.retryNow();
      else old.channel.retarget(config.url);
      old.config = config;
      return;
    }
    if (old !== undefined) await this.closeHttp(old, 0);
    this.http = undefined;
    if (config !== undefined) this.http = this.openHttp(config);
  }

  private openHttp(config: NonNullable<AlertOutputsConfig["http"]>): HttpOutput {
    const o = this.options;
    const thread = o.thread ?? (o.post !== undefined || o.clock !== undefined ? "main" : "worker");
    this.reportedOverflow = 0;
    if (thread === "worker") {
      if (o.post !== undefined || o.clock !== undefined || o.backoff?.random !== undefined) {
        throw new Error("a test's client, clock or random source cannot run in the output worker");
      }
      const channel = new HttpOutputWorker({
        dir: o.spoolDir,
        name: "alerts-http",
        maxBytes: config.spoolMaxBytes,
        url: config.url,
        timeoutMs: o.timeoutMs ?? 10_000,
        userAgent: o.userAgent ?? "homeostat",
        ...(config.pipeline !== undefined ? { pipeline: config.pipeline } : {}),
        ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
      });
      return { config, channel };
    }
    const spool = AlertSpool.open({ dir: this.options.spoolDir, name: "alerts-http", maxBytes: config.spoolMaxBytes });
    const poster =
      this.options.post !== undefined
        ? { post: this.options.post, close: () => {} }
        : pipelinedPoster({
            timeoutMs: this.options.timeoutMs ?? 10_000,
            userAgent: this.options.userAgent ?? "homeostat",
          });
    const sink = new HttpAlertSink({
      url: config.url,
      spool,
      post: poster.post,
      ...(config.pipeline !== undefined ? { pipeline: config.pipeline } : {}),
      ...(this.options.clock !== undefined ? { clock: this.options.clock } : {}),
      ...(this.options.backoff !== undefined ? { backoff: this.options.backoff } : {}),
    });
    // What the last run left is sent first, before anything this run raises.
    sink.kick();
    return { config, channel: new InProcessHttp(spool, sink, poster.close) };
  }

  private async reconfigureSyslog(config: AlertOutputsConfig["syslog"]): Promise<void> {
    const old = this.syslog;
    if (old !== undefined && config !== undefined && old.config.path === config.path) {
      old.config = config;
      old.format = syslogFormatter(config);
      old.sink.reconnect();
      return;
    }
    const next = config !== undefined ? await SyslogSink.open({ path: config.path }) : undefined;
    this.syslog =
      next !== undefined && config !== undefined ? { config, sink: next, format: syslogFormatter(config) } : undefined;
    await old?.sink.close();
  }

  get stats(): AlertOutputStats {
    const out: AlertOutputStats = {};
    if (this.http !== undefined) {
      const c = this.http.channel;
      out.http = { ...c.stats, url: c.target.href };
    }
    if (this.syslog !== undefined) {
      const sink = this.syslog.sink;
      out.syslog = { ...sink.stats, path: this.syslog.config.path, queued: sink.queued, socket: sink.socketType };
    }
    return out;
  }

  /** Sends what is waiting (up to `drainMs` while the receiver takes it), then closes; the spool keeps the rest. */
  async close(drainMs: number): Promise<void> {
    const http = this.http;
    const syslog = this.syslog;
    if (http !== undefined) await this.closeHttp(http, drainMs);
    if (syslog !== undefined) await syslog.sink.close();
  }

  private async closeHttp(http: HttpOutput, drainMs: number): Promise<void> {
    await http.channel.close(drainMs);
  }
}

/** The syslog messages of this watch (its facility, its pid). */
function syslogFormatter(config: NonNullable<AlertOutputsConfig["syslog"]>): SyslogFormatter {
  return new SyslogFormatter({ facility: config.facility, procId: process.pid });
}
