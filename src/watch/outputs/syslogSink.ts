// Alerts to the local syslog daemon as RFC 5424 messages (syslogFormat.ts) over a unix stream socket, one message
// per line (RFC 6587's non-transparent framing, what syslog-ng's unix-stream() and rsyslog's imptcp read).
//
// Why a stream socket: Node.js has no unix datagram sockets (dgram is UDP only), and /dev/log is a datagram socket
// where journald or rsyslog's imuxsock own it. Sending datagrams would take a native addon (unix-dgram) or a helper
// process (`logger`) per message; neither is worth it for a best-effort output, and the reliable output is the HTTP
// one. So the sink connects with a stream socket, and when the path is a datagram socket it says so at once (one
// sentence, exit 3) and names the fix: a stream socket the daemon listens on (docs/operations.md).
//
// Syslog is best effort, as syslog itself is: while the daemon is away (restarting), messages wait in a bounded
// queue and the sink reconnects with backoff; beyond the queue they are dropped and counted. Lines written into a
// connection that then breaks are lost with it.

import net from "node:net";
import { HomeostatError } from "../../errors.js";
import { type Clock, systemClock, unrefTimer } from "../../response/clock.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";

export interface SyslogSinkOptions {
  /** The syslog daemon's stream socket (default /dev/log). */
  path: string;
  /** Messages waiting while disconnected, or buffered in the socket, at most (default 10,000). */
  maxQueued?: number;
  clock?: Clock;
  backoff?: BackoffOptions;
}

export interface SyslogStats {
  sent: number;
  /** Messages dropped because the queue was full (those lost with a broken connection cannot be known). */
  dropped: number;
  /** Connection failures (each, reconnects included). */
  failures: number;
  connected: boolean;
  lastError: string | undefined;
}

export class SyslogSink {
  private socket: net.Socket | undefined;
  private queue: string[] = [];
  private attempt = 0;
  private retryTimer: unknown;
  private corked = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly maxQueued: number;
  private readonly counts: SyslogStats = { sent: 0, dropped: 0, failures: 0, connected: false, lastError: undefined };

  /** Connects to the socket; rejects with a typed error (which says why and what to do) when it cannot. */
  static async open(options: SyslogSinkOptions): Promise<SyslogSink> {
    const sink = new SyslogSink(options);
    sink.socket = await connect(options.path).catch((err: unknown) => {
      throw syslogError(err, options.path);
    });
    sink.attach(sink.socket);
    return sink;
  }

  private constructor(private readonly options: SyslogSinkOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  get stats(): Readonly<SyslogStats> {
    return this.counts;
  }

  /** Messages waiting for the connection. */
  get queued(): number {
    return this.queue.length;
  }

  /** Sends one message (a line of syslogFormat.ts); written with the others of this turn in one write. */
  send(message: string): void {
    if (this.closed) return;
    const s = this.socket;
    if (s === undefined || this.queue.length > 0 || s.writableLength > this.maxQueued * 256) {
      if (this.queue.length >= this.maxQueued) this.counts.dropped++;
      else this.queue.push(message);
      return;
    }
    this.write(s, message);
  }

  /** SIGHUP: reconnect now (the daemon restarted, or moved its socket back). */
  reconnect(): void {
    if (this.closed) return;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt = 0;
    this.socket?.destroy();
    this.socket = undefined;
    this.dial();
  }

  /** Writes what is waiting (bounded by `ms`) and closes the connection. */
  async close(ms = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    const s = this.socket;
    this.counts.dropped += this.queue.length;
    this.queue = [];
    if (s === undefined) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => s.destroy(), ms);
      s.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      s.end();
    });
  }

  private write(s: net.Socket, message: string): void {
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    s.write(`${message}\n`);
    this.counts.sent++;
  }

  private attach(s: net.Socket): void {
    this.counts.connected = true;
    this.attempt = 0;
    s.on("error", (err: NodeJS.ErrnoException) => {
      this.counts.lastError = err.code ?? err.message;
    });
    s.on("close", () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.counts.connected = false;
      this.counts.failures++;
      if (!this.closed) this.scheduleRetry();
    });
    const waiting = this.queue;
    this.queue = [];
    for (const m of waiting) this.write(s, m);
  }

  private scheduleRetry(): void {
    this.retryTimer = this.clock.setTimer(
      () => {
        this.retryTimer = undefined;
        this.dial();
      },
      backoffDelay(this.attempt++, this.options.backoff),
    );
    unrefTimer(this.retryTimer);
  }

  private dial(): void {
    connect(this.options.path).then(
      (s) => {
        if (this.closed) s.destroy();
        else {
          this.socket = s;
          this.attach(s);
        }
      },
      (err: NodeJS.ErrnoException) => {
        this.counts.failures++;
        this.counts.lastError = err.code ?? err.message;
        if (!this.closed) this.scheduleRetry();
      },
    );
  }
}

/** A connected stream socket to `path`. */
function connect(path: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

function syslogError(err: unknown, path: string): HomeostatError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EPROTOTYPE") {
    return new HomeostatError(
      "E_DEPENDENCY",
      `${path} is a datagram socket (journald's or rsyslog's /dev/log), and Node.js cannot send unix datagrams: ` +
        "give --syslog-socket a stream socket your syslog daemon listens on (syslog-ng unix-stream(), rsyslog " +
        "imptcp with path=; see docs/operations.md)",
      {},
      { cause: err },
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    return new HomeostatError(
      "E_PERMISSION",
      `not permitted to connect to the syslog socket ${path}`,
      {},
      { cause: err },
    );
  }
  const why = code === "ENOENT" ? "there is no such socket" : code === "ECONNREFUSED" ? "nothing listens on it" : code;
  return new HomeostatError(
    "E_DEPENDENCY",
    `cannot connect to the syslog socket ${path}: ${why ?? String(err)}`,
    {},
    { cause: err },
  );
}
