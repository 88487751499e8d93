// An alert as one RFC 5424 syslog message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG`.
// PRI is facility x 8 + severity, and Falco's eight priorities are syslog's eight severities in the same order
// (Emergency 0 ... Debug 7). TIMESTAMP is the alert's own time (RFC 3339, UTC), HOSTNAME the alert's, APP-NAME
// "homeostat", PROCID watch's pid, MSGID the rule with anything outside printable ASCII or a space made "_" (at most
// 32 characters, as the RFC allows), no structured data ("-"), and MSG the alert's Falco JSON with every non-ASCII
// character escaped, so that MSG is plain ASCII (no BOM needed) and one line. Fields the RFC limits are cut or,
// when empty or invalid, the NILVALUE "-".

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
  const pri = fields.facility * 8 + (SEVERITY[alert.priority] ?? 5);
  const time = Number.isFinite(Date.parse(alert.time)) ? new Date(alert.time).toISOString() : "-";
  return (
    `<${pri}>1 ${time} ${token(alert.hostname, 255)} ${token(fields.appName ?? "homeostat", 48)} ` +
    `${fields.procId} ${token(alert.rule, 32)} - ${asciiJson(json)}`
  );
}

/** A header field: printable ASCII without spaces (others become "_"), cut to `max`; "-" when empty. */
function token(text: string, max: number): string {
  const t = text.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return t === "" ? "-" : t;
}

/** JSON with every character outside printable ASCII as a \u escape (JSON.stringify already escapes controls). */
function asciiJson(json: string): string {
  return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
