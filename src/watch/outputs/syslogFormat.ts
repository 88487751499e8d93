// An alert as one RFC 5424 syslog message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`.
// PRI is facility x 8 + severity, and Falco's eight priorities are syslog's eight severities in the same order
// (Emergency 0 ... Debug 7). TIMESTAMP is the alert's own time (RFC 3339, UTC), HOSTNAME the alert's, APP-NAME
// "homeostat", PROCID watch's pid, MSGID the rule with anything outside printable ASCII or a space made "_" (at most
// 32 characters, as the RFC allows), no structured data ("-"), and MSG the alert's Falco JSON with every non-ASCII
// character escaped, so that MSG is plain ASCII (no BOM needed) and one line. Fields the RFC limits are cut or,
// when empty or invalid, the NILVALUE "-".

import type { Writable } from "node:stream";
import type { AlertPriority, HostAlert } from "../../engine/hostMonitor.js";

/** Syslog facilities by name (RFC 5424 table 1). */
export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

const SEVERITY: Readonly<Record<AlertPriority, number>> = {
  Emergency: 0,
  Alert: 1,
  Critical: 2,
  Error: 3,
  Warning: 4,
  Notice: 5,
  Informational: 6,
  Debug: 7,
};

export interface SyslogFields {
  /** The facility number (SYSLOG_FACILITIES). */
  facility: number;
  procId: number;
  appName?: string;
}

/** The RFC 5424 message of `alert` (without a trailing newline); `json` is the alert's JSON when already made. */
export function syslogMessage(alert: HostAlert, fields: SyslogFields, json = JSON.stringify(alert)): string {
  const [pri, rest] = headerParts(alert, fields);
  return `${pri}${timestamp(alert.time)}${rest}${asciiJson(json)}`;
}

/**
 * syslogMessage for a stream of alerts with the same facility, process and application: the header around the
 * timestamp is made once per (rule, priority, hostname), and kept (rules and priorities are few; at most 1,000).
 */
export class SyslogFormatter {
  /** Header parts by rule, then by priority, for one hostname (alerts of one watch share theirs). */
  private readonly headers = new Map<string, Map<string, [string, string]>>();
  private hostname: string | undefined;
  private size = 0;

  constructor(private readonly fields: SyslogFields) {}

  message(alert: HostAlert, json = JSON.stringify(alert)): string {
    const [head, body] = this.parts(alert, json);
    return `${head}${body}`;
  }

  /**
   * The message as its header and its MSG: kept apart, the MSG is the alert's JSON string itself (when it is ASCII),
   * which a sink copies into its buffer as it is, instead of a new string of both made for each alert.
   */
  parts(alert: HostAlert, json = JSON.stringify(alert)): [head: string, body: string] {
    if (alert.hostname !== this.hostname || this.size >= 1000) {
      this.headers.clear();
      this.size = 0;
      this.hostname = alert.hostname;
    }
    let byPriority = this.headers.get(alert.rule);
    if (byPriority === undefined) this.headers.set(alert.rule, (byPriority = new Map()));
    let h = byPriority.get(alert.priority);
    if (h === undefined) {
      h = headerParts(alert, this.fields);
      byPriority.set(alert.priority, h);
      this.size++;
    }
    return [`${h[0]}${timestamp(alert.time)}${h[1]}`, asciiJson(json)];
  }
}

/** The header before the timestamp (`<PRI>1 `) and after it (` HOSTNAME APP-NAME PROCID MSGID - `). */
function headerParts(alert: HostAlert, fields: SyslogFields): [string, string] {
  const pri = fields.facility * 8 + (SEVERITY[alert.priority] ?? 5);
  return [
    `<${pri}>1 `,
    ` ${token(alert.hostname, 255)} ${token(fields.appName ?? "homeostat", 48)} ${fields.procId} ${token(alert.rule, 32)} - `,
  ];
}

/** RFC 3339 in UTC: the alert's time as it is when it already is that (the engine's toISOString), else made so. */
function timestamp(time: string): string {
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z$/.test(time)) return time;
  return Number.isFinite(Date.parse(time)) ? new Date(time).toISOString() : "-";
}

/** A header field: printable ASCII without spaces (others become "_"), cut to `max`; "-" when empty. */
function token(text: string, max: number): string {
  const t = text.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return t === "" ? "-" : t;
}

/** JSON with every character outside printable ASCII as a \u escape (JSON.stringify already escapes controls). */
function asciiJson(json: string): string {
  // Two native scans (UTF-8 length: no character past 0x7f; no DEL) are cheaper than a regular expression's.
  if (Buffer.byteLength(json, "utf8") === json.length && !json.includes("\x7f")) return json;
  return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Writes messages to a stream as lines, each `heads[i]` then `bodies[i]` (when given), in one write. A message is
 * plain ASCII by construction (header fields and MSG are made so above), so each is copied byte for byte into a
 * buffer: one buffer, not one joined string, which for a turn's messages (hundreds of KB) would be a large object
 * on the JavaScript heap that only a full collection frees. The buffers are kept for the next writes once the stream
 * has written them (a few, at most MAX_KEPT_BYTES each), so that each write does not touch fresh memory.
 */
export class LinesWriter {
  private readonly free: Buffer[] = [];

  write(stream: Writable, heads: readonly string[], bodies?: readonly string[]): void {
    let size = heads.length;
    for (const h of heads) size += h.length;
    if (bodies !== undefined) for (const b of bodies) size += b.length;
    const buf = this.take(size);
    let at = 0;
    for (let i = 0; i < heads.length; i++) {
      at += buf.write(heads[i]!, at, "latin1");
      if (bodies !== undefined) at += buf.write(bodies[i]!, at, "latin1");
      buf[at++] = 0x0a;
    }
    stream.write(buf.subarray(0, at), () => this.give(buf));
  }

  private take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    // Rounded up, so that a buffer serves the next turns' writes of about the same size too.
    return Buffer.allocUnsafeSlow(Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(size))));
  }

  private give(buf: Buffer): void {
    if (buf.length <= MAX_KEPT_BYTES && this.free.length < MAX_KEPT_BUFFERS) this.free.push(buf);
  }
}

const MAX_KEPT_BUFFERS = 4;
const MAX_KEPT_BYTES = 4 << 20;
