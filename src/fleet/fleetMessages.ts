// The bodies of the stream's messages (alerts, actions, heartbeats): encoded by a host with the alert's JSON made
// once by the watch and spliced in, decoded by the central side with validation, so that a malformed or foreign
// message is refused with a code (E_PARSE, E_VERSION) instead of reaching the fleet database.

import { z } from "zod";
import type { HostAlert } from "../engine/hostAlerts.js";
import { excerptOf, HomeostatError } from "../errors.js";
import type { ResponseAction } from "../response/responder.js";
import { parseJsonVersioned, parseWith } from "./fleetJson.js";
import {
  type FleetKind,
  HOST_ID_RE,
  messageId,
  MSG_ID_HEADER,
  parseSubject,
  PROGRAM_ID_RE,
  RUN_ID_RE,
} from "./fleetNames.js";

/** What every message body starts with. */
export interface FleetEnvelope {
  v: 1;
  host: string;
  run: string;
  seq: number;
  /** Epoch milliseconds at which the host made the message. */
  time: number;
  /**
   * An alert's program: its executable's content identity (programIdentity.ts), when the host had worked it out
   * (it is read off the engine's turn, so a new program's first alerts may come without it).
   */
  program?: string;
}

export interface AlertBody extends FleetEnvelope {
  alert: HostAlert;
}

export interface ActionBody extends FleetEnvelope {
  action: ResponseAction;
}

export interface HeartbeatCounters {
  events: number;
  alerts: number;
  actions: number;
  lost: number;
  /** Profiles by state (training, frozen, normal, ...). */
  profiles: Record<string, number>;
  /** Messages waiting in the host's spool. */
  spooled: number;
  /** Messages the spool could not keep (full), since the run started. */
  spoolDropped: number;
}

export interface HeartbeatBody extends FleetEnvelope {
  /** Epoch milliseconds at which the run started. */
  started: number;
  /** homeostat's version. */
  version: string;
  counters: HeartbeatCounters;
  /**
   * Epoch milliseconds at which the engine's thread took the counters. The envelope's `time` is when the publishing
   * worker took the message, which is later by as much as the worker is behind (absent from older hosts).
   */
  taken?: number;
}

export type FleetBody = AlertBody | ActionBody | HeartbeatBody;

/** The payload field of each kind, whose value is spliced in as JSON already made. */
const PAYLOAD_FIELD = { alerts: "alert", actions: "action", heartbeats: null } as const;

/**
 * A message's JSON text, the envelope first and then `payloadJson` (JSON.stringify of the alert or action, made
 * once by the watch and shared with its other outputs) under its kind's field; a heartbeat's payload is an object
 * whose fields join the envelope's. The text holds no raw newline (JSON never does), so it can be spooled as a line.
 */
export function messageText(kind: FleetKind, env: FleetEnvelope, payloadJson: string): string {
  // A program id is letters, digits and "-" (PROGRAM_ID_RE): nothing to escape.
  const program = env.program === undefined ? "" : `,"program":"${env.program}"`;
  const head = `{"v":1,"host":${JSON.stringify(env.host)},"run":"${env.run}","seq":${env.seq},"time":${env.time}${program}`;
  const field = PAYLOAD_FIELD[kind];
  if (field === null) {
    const inner = payloadJson.trim();
    return inner === "{}" ? `${head}}` : `${head},${inner.slice(1)}`;
  }
  return `${head},"${field}":${payloadJson}}`;
}

/** A message's bytes (messageText as UTF-8). */
export function encodeMessage(kind: FleetKind, env: FleetEnvelope, payloadJson: string): Uint8Array {
  return Buffer.from(messageText(kind, env, payloadJson), "utf8");
}

/** A heartbeat's JSON fields (started, version, counters), as messageText takes them. */
type HeartbeatFields = Pick<HeartbeatBody, "started" | "version" | "counters" | "taken">;

export function heartbeatJson(hb: HeartbeatFields): string {
  const taken = hb.taken !== undefined ? { taken: hb.taken } : {};
  return JSON.stringify({ started: hb.started, version: hb.version, counters: hb.counters, ...taken });
}

export function encodeHeartbeat(env: FleetEnvelope, hb: HeartbeatFields) {
  return encodeMessage("heartbeats", env, heartbeatJson(hb));
}

const count = z.number().int().nonnegative();

const envelopeSchema = {
  v: z.literal(1),
  host: z.string().regex(HOST_ID_RE),
  run: z.string().regex(RUN_ID_RE),
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  time: z.number().finite().nonnegative(),
  program: z.string().regex(PROGRAM_ID_RE).optional(),
};

const alertSchema = z.looseObject({
  time: z.string(),
  rule: z.string(),
  priority: z.string(),
  source: z.string(),
  hostname: z.string(),
  tags: z.array(z.string()),
  output: z.string(),
  output_fields: z.record(z.string(), z.unknown()),
});

const actionSchema = z.looseObject({
  time: z.number().finite(),
  kind: z.string(),
  pid: z.number().int(),
  tid: z.number().int(),
  exe: z.string(),
  outcome: z.string(),
  reason: z.string(),
});

const countersSchema = z.looseObject({
  events: count,
  alerts: count,
  actions: count,
  lost: count,
  profiles: z.record(z.string(), count),
  spooled: count,
  spoolDropped: count,
});

const BODY_SCHEMAS = {
  alerts: z.looseObject({ ...envelopeSchema, alert: alertSchema }),
  actions: z.looseObject({ ...envelopeSchema, action: actionSchema }),
  heartbeats: z.looseObject({
    ...envelopeSchema,
    started: z.number().finite().nonnegative(),
    version: z.string().max(200),
    counters: countersSchema,
    taken: z.number().finite().nonnegative().optional(),
  }),
};

export interface DecodedMessage {
  kind: FleetKind;
  id: string;
  body: FleetBody;
}

/**
 * Decodes and validates one stream message: its subject names the kind and host, the body must be of that kind
 * and host, and the `Nats-Msg-Id` header (when given) must be the body's `<host>.<run>.<seq>`.
 */
export function decodeMessage(subject: string, data: Uint8Array, msgIdHeader?: string): DecodedMessage {
  const { kind, host } = parseSubject(subject);
  const what = `fleet message on ${subject}`;
  const body = parseWith(BODY_SCHEMAS[kind] as z.ZodType, parseJsonVersioned(data, what), what) as FleetBody;
  if (body.host !== host) throw new HomeostatError("E_PARSE", `${what}: body host "${body.host}" is not the subject's`);
  const id = messageId(body.host, body.run, body.seq);
  if (msgIdHeader !== undefined && msgIdHeader !== id) {
    throw new HomeostatError(
      "E_PARSE",
      `${what}: ${MSG_ID_HEADER} ${JSON.stringify(excerptOf(msgIdHeader))} is not ${id}`,
    );
  }
  return { kind, id, body };
}
