// Alerts to the local syslog daemon as RFC 5424 messages (syslogFormat.ts). Over a unix stream socket (syslog-ng's
// unix-stream(), rsyslog's imptcp with a path), one message per line (RFC 6587's non-transparent framing), the messages
// of an output window (outputWindow.ts) in one write. When the path is a datagram socket (/dev/log where
// systemd-journald or rsyslog's imuxsock own it), which Node.js cannot write to, the messages go through a helper
// process instead (syslogDatagram.ts); `open` finds out which by connecting.
//
// Syslog is best effort, as syslog itself is: while the daemon is away (restarting), messages wait in a bounded queue
// and the sink reconnects with backoff; beyond the queue they are dropped and counted. Lines written into a connection
// that then breaks are lost with it.

import net from "node:net";
import { HomeostatError } from "../../errors.js";
import { type Clock, systemClock, unrefTimer } from "../../response/clock.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { DatagramSyslogSink } from "./syslogDatagram.js";
import { afterWindow } from "./outputWindow.js";
import { LinesWriter } from "./syslogFormat.js";
import type { SyslogOutput, SyslogStats } from "./syslogOutput.js";

export type { SyslogOutput, SyslogStats } from "./syslogOutput.js";

export interface SyslogSinkOptions {
  /** The syslog daemon's socket (default /dev/log), stream or datagram. */
  path: string;
  /** Messages waiting while disconnected, or buffered in the socket, at most (default 10,000). */
  maxQueued?: number;
  clock?: Clock;
  backoff?: BackoffOptions;
}

export class SyslogSink implements SyslogOutput {
  readonly socketType = "stream" as const;
  private socket: net.Socket | undefined;
  private queue: string[] = [];
  /** The window's messages (their heads and bodies), written together once it ends (outputWindow.ts). */
  private heads: string[] = [];
  private bodies: string[] = [];
  private windowTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private retryTimer: unknown;
  private closed = false;
  private readonly clock: Clock;
  private readonly maxQueued: number;
  private readonly lines = new LinesWriter();
  private readonly counts: SyslogStats = { sent: 0, dropped: 0, failures: 0, connected: false, lastError: undefined };

  /**
   * Connects to the socket: a stream socket is written here, a datagram one through a helper (syslogDatagram.ts).
   * Rejects with a typed error (which says why and what to do) when neither can be.
   */
  static async open(options: SyslogSinkOptions): Promise<SyslogOutput> {
    const sink = new SyslogSink(options);
    try {
      sink.socket = await connect(options.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EPROTOTYPE") return DatagramSyslogSink.open(options);
      throw syslogError(err, options.path);
    }
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

  get queued(): number {
    return this.queue.length;
  }

  send(head: string, body = ""): void {
    if (this.closed) return;
    const s = this.socket;
    if (s === undefined || this.queue.length > 0 || s.writableLength > this.maxQueued * 256) {
      this.enqueue(`${head}${body}`);
      return;
    }
    if (this.heads.length === 0) this.windowTimer = afterWindow(this.writeWindow);
    this.heads.push(head);
    this.bodies.push(body);
    if (this.heads.length >= this.maxQueued) this.writeWindow();
  }

  /** The window's messages in one write (one buffer, one system call, instead of one per message). */
  private readonly writeWindow = (): void => {
    clearTimeout(this.windowTimer);
    const heads = this.heads;
    const bodies = this.bodies;
    this.heads = [];
    this.bodies = [];
    if (heads.length === 0) return;
    const s = this.socket;
    if (s === undefined) {
      // The connection broke during the window: the messages wait for the next one.
      for (let i = 0; i < heads.length; i++) this.enqueue(`${heads[i]}${bodies[i]}`);
      return;
    }
    this.lines.write(s, heads, bodies);
    this.counts.sent += heads.length;
  };

  private enqueue(message: string): void {
    if (this.queue.length >= this.maxQueued) this.counts.dropped++;
    else this.queue.push(message);
  }

  reconnect(): void {
    if (this.closed) return;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt = 0;
    this.socket?.destroy();
    this.socket = undefined;
    this.dial();
  }

  async close(ms = 1000): Promise<void> {
    if (this.closed) return;
    this.writeWindow();
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

  private attach(s: net.Socket): void {
    this.counts.connected = true;
    this.attempt = 0;
    s.on("error", (err: NodeJS.ErrnoException) => {
      this.counts.lastError = err.code ?? err.message;
    });
    s.on("close", () => {
      if (this.socket !== s || this.closed) return;
      this.socket = undefined;
      this.counts.connected = false;
      this.counts.failures++;
      if (!this.closed) this.scheduleRetry();
    });
    // What waited (for the connection, or for the daemon to catch up) goes once the socket has room again.
    s.on("drain", () => this.writeQueue(s));
    this.writeQueue(s);
  }

  /** The queued messages, in one write, when the socket has room (or at once after connecting). */
  private writeQueue(s: net.Socket): void {
    const waiting = this.queue;
    if (waiting.length === 0 || s !== this.socket || s.writableLength > this.maxQueued * 256) return;
    this.queue = [];
    this.lines.write(s, waiting);
    this.counts.sent += waiting.length;
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
