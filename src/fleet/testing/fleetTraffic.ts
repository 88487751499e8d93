// What the central side's tests and bench send, made as a watch with --fleet makes it: alerts, actions and
// heartbeats encoded by the protocol (fleetMessages.ts) and published with their `Nats-Msg-Id`, retried until
// JetStream acknowledges them (as a host's spool does); profiles trained on call sequences and put in the profiles
// bucket as snapshots (profileSnapshot.ts).

import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { HostAlert } from "../../engine/hostAlerts.js";
import { PhProfile } from "../../lifecycle/phProfile.js";
import type { ResponseAction } from "../../response/responder.js";
import { encodeHeartbeat, encodeMessage, type FleetEnvelope, type HeartbeatCounters } from "../fleetMessages.js";
import { type FleetKind, messageId, profileKey, subjectFor } from "../fleetNames.js";
import { encodeSnapshot } from "../profileSnapshot.js";

export const RUN = "00112233aabbccdd";

export function envelope(host: string, seq: number, time = Date.now(), run = RUN): FleetEnvelope {
  return { v: 1, host, run, seq, time };
}

/** An anomaly alert of `exe` as a host's engine raises it. */
export function hostAlert(host: string, exe: string, time: number, text = "anomalous call"): HostAlert {
  return {
    time: new Date(time).toISOString(),
    rule: "Anomalous system calls",
    priority: "Warning",
    source: "syscall",
    hostname: host,
    tags: ["homeostat", "pH", "host", "process", "anomaly"],
    output: `${text} by ${exe}`,
    output_fields: {
      "evt.time": time / 1000,
      "proc.pid": 4242,
      "proc.exepath": exe,
      "homeostat.window": ["openat", "read", "mprotect"],
    },
  };
}

export function responseAction(exe: string, time: number): ResponseAction {
  return {
    time: time / 1000,
    kind: "delay",
    pid: 4242,
    tid: 4242,
    exe,
    lfc: 3,
    outcome: "paused",
    delayMs: 80,
    reason: "locality frame count 3",
  };
}

export function counters(events: number, extra: Partial<HeartbeatCounters> = {}): HeartbeatCounters {
  return {
    events,
    alerts: 0,
    actions: 0,
    lost: 0,
    profiles: { training: 2, frozen: 1, normal: 3 },
    spooled: 0,
    spoolDropped: 0,
    ...extra,
  };
}

/** The bytes of one message of `kind`. */
export function messageBytes(kind: FleetKind, env: FleetEnvelope, exe = "/usr/bin/true"): Uint8Array {
  if (kind === "alerts") return encodeMessage(kind, env, JSON.stringify(hostAlert(env.host, exe, env.time)));
  if (kind === "actions") return encodeMessage(kind, env, JSON.stringify(responseAction(exe, env.time)));
  return encodeHeartbeat(env, { started: env.time - 60_000, version: "0.1.0", counters: counters(env.seq * 100) });
}

/** Publishes with the message's id, retrying (the same id: JetStream drops a copy) until it is acknowledged. */
export async function publishUntilAcked(
  js: JetStreamClient,
  kind: FleetKind,
  env: FleetEnvelope,
  bytes = messageBytes(kind, env),
  deadlineMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      await js.publish(subjectFor(kind, env.host), bytes, {
        msgID: messageId(env.host, env.run, env.seq),
        timeout: 5000,
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A pH profile trained on `runs` repetitions of `calls` (one stream), normalized when `normal`. */
export function trainedProfile(calls: readonly number[], runs: number, normal: boolean): PhProfile {
  const p = new PhProfile(64, { normalWait: 3600 });
  const s = p.newStream();
  for (let r = 0; r < runs; r++) for (const c of calls) p.step(s, c, 1000);
  if (normal) p.normalize();
  return p;
}

/** Puts `profile` in the profiles bucket as `host`'s snapshot of `program`; returns the revision. */
export async function putSnapshot(
  kv: KV,
  program: string,
  host: string,
  path: string,
  profile: PhProfile,
  version = 1,
): Promise<number> {
  const header = {
    v: 1 as const,
    host,
    program,
    path,
    model: profile.model,
    state: profile.state,
    trainCount: profile.trainCount,
    version,
    time: Date.now(),
  };
  return kv.put(profileKey(program, host), encodeSnapshot(header, profile.serialize()));
}

/** Polls `check` until it returns true, or throws after `ms` with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
