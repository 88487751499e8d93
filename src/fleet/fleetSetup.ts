// Making sure the stream and the KV buckets of the protocol exist, whoever connects first: each is added when
// missing and left as it is when it exists with a compatible configuration (so that a host and `fleet serve` may
// start in any order, and an operator's changes to limits or replicas are kept). A host whose permissions do not
// allow creating them finds them made by the central side. The NATS modules are type-only imports here: callers
// pass the live objects, so nothing is loaded until a fleet connection is made.

import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV, Kvm } from "@nats-io/kv";
import { HomeostatError } from "../errors.js";
import { bucketConfig, STREAM_NAME, STREAM_SUBJECTS, streamConfig } from "./fleetNames.js";

/** A NATS error's name and JetStream API code, without loading the modules for their classes. */
export function natsErrorKind(err: unknown): { name: string; code: number | undefined; status: number | undefined } {
  const e = err as { name?: unknown; code?: unknown; status?: unknown; cause?: unknown } | null;
  const code = typeof e?.code === "number" ? e.code : undefined;
  const status = typeof e?.status === "number" ? e.status : undefined;
  let name = typeof e?.name === "string" ? e.name : "Error";
  const cause = e?.cause as { name?: unknown } | undefined;
  if (name === "RequestError" && typeof cause?.name === "string") name = cause.name;
  return { name, code, status };
}

const STREAM_NOT_FOUND = 10059;

function isNotFound(err: unknown): boolean {
  const k = natsErrorKind(err);
  return k.code === STREAM_NOT_FOUND || k.name === "StreamNotFoundError";
}

/**
 * The HOMEOSTAT stream: added with `replicas` when missing; when it exists, it must take the protocol's subjects
 * (E_VERSION otherwise: another homeostat's stream). Returns whether it was created.
 */
export async function ensureStream(jsm: JetStreamManager, replicas = 1): Promise<"created" | "exists"> {
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(STREAM_NAME);
      const missing = STREAM_SUBJECTS.filter((s) => !info.config.subjects.includes(s));
      if (missing.length > 0) {
        throw new HomeostatError(
          "E_VERSION",
          `the fleet stream ${STREAM_NAME} exists without the subjects ${missing.join(", ")}: not this homeostat's protocol`,
        );
      }
      return "exists";
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await jsm.streams.add(streamConfig(replicas));
      return "created";
    } catch (err) {
      // Another party created it between our look and our add: look again (once).
      if (attempt > 0) throw err;
    }
  }
}

/**
 * A KV bucket of the protocol: created with its history when missing, else opened as it is (Kvm.create only looks
 * at an existing bucket, never changes it). Undefined when it does not exist and cannot be made here (a host
 * without the permission: the central side makes it).
 */
export async function ensureBucket(
  kvm: Kvm,
  name: Parameters<typeof bucketConfig>[0],
  replicas = 1,
): Promise<KV | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await kvm.create(name, bucketConfig(name, replicas));
    } catch (err) {
      const k = natsErrorKind(err);
      if (k.name === "PermissionViolationError" || isNotFound(err)) return undefined;
      // Created by another party between our look and our add: look again (once).
      if (attempt > 0) throw err;
    }
  }
}
