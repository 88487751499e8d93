// What a syslog output is to the rest of watch, whichever socket it writes to: a stream socket (syslogSink.ts) or a
// datagram one through a helper process (syslogDatagram.ts). A file of its own so that the two need not import each
// other.

export interface SyslogStats {
  sent: number;
  /** Messages dropped because the queue was full (those lost with a broken connection cannot be known). */
  dropped: number;
  /** Connection failures (each, reconnects included). */
  failures: number;
  connected: boolean;
  lastError: string | undefined;
}

/** A syslog output, over a stream socket (SyslogSink) or a datagram one (DatagramSyslogSink). */
export interface SyslogOutput {
  readonly socketType: "stream" | "datagram";
  readonly stats: Readonly<SyslogStats>;
  /** Messages waiting for the connection. */
  readonly queued: number;
  /** Sends one message (a line of syslogFormat.ts: `head` then `body`), with the others of this turn. */
  send(head: string, body?: string): void;
  /** SIGHUP: reconnect now (the daemon restarted, or moved its socket back). */
  reconnect(): void;
  /** Writes what is waiting (bounded by `ms`) and closes. */
  close(ms?: number): Promise<void>;
}
