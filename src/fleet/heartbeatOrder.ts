// Which of a host's heartbeats is its status: the newest. Of one run, the later sequence number (the publishing
// worker stamps a message's time when it takes it, and one that fell behind can stamp two in one millisecond); of
// two runs, the later time, then the later start. A heartbeat's time is when the engine's thread took its counters,
// where the host says (`taken`), else the worker's stamp.

import type { HeartbeatBody } from "./fleetMessages.js";

/** The host's last heartbeat as the fleet database's hosts row keeps it. */
export interface LastHeartbeat {
  last_heartbeat: number | null;
  heartbeat_seq: number | null;
  run: string | null;
  started: number | null;
  counters: string | null;
}

/** Epoch seconds of heartbeat `b`'s counters. */
export function heartbeatTime(b: HeartbeatBody): number {
  return (b.taken ?? b.time) / 1000;
}

/** Whether heartbeat `b` is newer than the host's last one. */
export function newerHeartbeat(b: HeartbeatBody, last: LastHeartbeat): boolean {
  if (last.last_heartbeat === null) return true;
  const t = heartbeatTime(b);
  if (last.run === b.run && last.heartbeat_seq !== null) return b.seq > last.heartbeat_seq;
  if (t !== last.last_heartbeat) return t > last.last_heartbeat;
  return last.run !== b.run && last.started !== null && b.started / 1000 > last.started;
}
