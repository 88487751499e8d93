// The fleet protocol's names: the stream, its subjects, the KV buckets and their keys, their configurations, and the
// identities every message carries (host, run, sequence). Hosts and the central side must agree on every one of
// them, so they are spelled once, here.

import { randomBytes } from "node:crypto";
import { excerptOf, HomeostatError } from "../errors.js";

/** The body version every message carries as `v`. */
export const FLEET_PROTOCOL_VERSION = 1;

export const STREAM_NAME = "HOMEOSTAT";
export const SUBJECT_ROOT = "homeostat";
export const FLEET_KINDS = ["alerts", "actions", "heartbeats"] as const;
export type FleetKind = (typeof FLEET_KINDS)[number];
/** The stream's subjects: one token per host after the kind. */
export const STREAM_SUBJECTS: readonly string[] = FLEET_KINDS.map((k) => `${SUBJECT_ROOT}.${k}.*`);
/** JetStream drops a second message with the same Nats-Msg-Id within this window. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** How often a host says it is alive (and its counters). */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** The header that carries a message's id (JetStream's de-duplication key). */
export const MSG_ID_HEADER = "Nats-Msg-Id";

export const PROFILES_BUCKET = "homeostat_profiles";
export const POOLED_BUCKET = "homeostat_pooled";
export const ADMIN_BUCKET = "homeostat_admin";
/** Revisions each bucket keeps per key. */
export const BUCKET_HISTORY = { [PROFILES_BUCKET]: 1, [POOLED_BUCKET]: 1, [ADMIN_BUCKET]: 5 } as const;

/** The stream's configuration, in JetStream's own field names (duplicate_window in nanoseconds). */
export interface FleetStreamConfig {
  name: string;
  subjects: string[];
  storage: "file";
  duplicate_window: number;
  num_replicas: number;
}

export function streamConfig(replicas = 1): FleetStreamConfig {
  return {
    name: STREAM_NAME,
    subjects: [...STREAM_SUBJECTS],
    storage: "file",
    duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
    num_replicas: replicas,
  };
}

/** A KV bucket's options, in @nats-io/kv's names. */
export interface FleetBucketConfig {
  history: number;
  replicas: number;
  storage: "file";
}

export function bucketConfig(bucket: keyof typeof BUCKET_HISTORY, replicas = 1): FleetBucketConfig {
  return { history: BUCKET_HISTORY[bucket], replicas, storage: "file" };
}

// ---- identities ----

export const HOST_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const RUN_ID_RE = /^[0-9a-f]{16}$/;
/** `b-<GNU build-id hex>` or `s-<first 32 hex of the file's sha256>` (programIdentity.ts). */
export const PROGRAM_ID_RE = /^(b-[0-9a-f]{2,128}|s-[0-9a-f]{32})$/;
/** The host name of pooled snapshots (not a valid host id, so no host can write as the pool). */
export const POOL_HOST = "_pool";

/** Throws E_USAGE unless `id` is a valid host id (one NATS subject token, one KV key token). */
export function validateHostId(id: string): string {
  if (!HOST_ID_RE.test(id)) {
    throw new HomeostatError(
      "E_USAGE",
      `host id ${JSON.stringify(excerptOf(id, 70))} is not valid: 1 to 64 letters, digits, '_' or '-', starting with a letter or digit`,
    );
  }
  return id;
}

/** The default host id from a host name: its first label, other characters made '-', at most 64 characters. */
export function hostIdFromHostname(hostname: string): string {
  const label = (hostname.split(".")[0] ?? "").replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 64);
  return HOST_ID_RE.test(label) ? label : validateHostId(`h${label}`.slice(0, 64));
}

/** A run id: 16 random hex digits, chosen when watch starts. */
export function newRunId(): string {
  return randomBytes(8).toString("hex");
}

export function isProgramId(s: string): boolean {
  return PROGRAM_ID_RE.test(s);
}

export function subjectFor(kind: FleetKind, host: string): string {
  return `${SUBJECT_ROOT}.${kind}.${host}`;
}

/** The kind and host of a stream subject; E_PARSE for any other subject. */
export function parseSubject(subject: string): { kind: FleetKind; host: string } {
  const parts = subject.split(".");
  const kind = parts[1] as FleetKind;
  if (parts.length !== 3 || parts[0] !== SUBJECT_ROOT || !FLEET_KINDS.includes(kind) || !HOST_ID_RE.test(parts[2]!)) {
    throw new HomeostatError("E_PARSE", `not a homeostat fleet subject: ${JSON.stringify(excerptOf(subject))}`);
  }
  return { kind, host: parts[2]! };
}

/** `<host>.<run>.<seq>`: the message's JetStream id and the fleet database's unique key. */
export function messageId(host: string, run: string, seq: number): string {
  return `${host}.${run}.${seq}`;
}

export function parseMessageId(id: string): { host: string; run: string; seq: number } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\.([0-9a-f]{16})\.([1-9][0-9]{0,15})$/.exec(id);
  if (m === null || !Number.isSafeInteger(Number(m[3]))) {
    throw new HomeostatError("E_PARSE", `not a homeostat fleet message id: ${JSON.stringify(excerptOf(id))}`);
  }
  return { host: m[1]!, run: m[2]!, seq: Number(m[3]) };
}

/** `<program>.<host>`, the key of a host's profile in PROFILES_BUCKET. */
export function profileKey(program: string, host: string): string {
  return `${program}.${host}`;
}

export function parseProfileKey(key: string): { program: string; host: string } {
  const dot = key.indexOf(".");
  const program = key.slice(0, dot);
  const host = key.slice(dot + 1);
  if (dot < 0 || !isProgramId(program) || !HOST_ID_RE.test(host)) {
    throw new HomeostatError("E_PARSE", `not a homeostat profile key: ${JSON.stringify(excerptOf(key))}`);
  }
  return { program, host };
}
