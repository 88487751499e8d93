// `homeostat watch --fleet`: the host side of fleet mode, a watch observer (src/watch/watchObserver.ts) that sends
// the watch's alerts and actions to the fleet's stream, with a heartbeat of its counters every 10 s, through a
// worker thread (fleetChannel.ts, fleetWorker.ts: ids, a window of acknowledgements, the spool), so that the
// engine's thread pays only a push per message; it puts its profiles' snapshots at each save (fleetProfiles.ts,
// which also starts new programs from pooled profiles with --fleet-profiles pull), and applies the fleet's
// administrator operations (fleetAdmin.ts), over a second, quiet connection on this thread. Both connections live
// in the background (fleetLink.ts): the watch never waits for the fleet; while it is away, messages wait in
// `<state>/fleet-spool`.

import { hostname } from "node:os";
import path from "node:path";
import type { HostAlert, HostMonitor } from "../engine/hostMonitor.js";
import type { ProfileEntry } from "../engine/profileEntry.js";
import type { ResponseAction } from "../response/responder.js";
import type { SavedProfile, WatchObserver } from "../watch/watchObserver.js";
import { FleetAdmin } from "./fleetAdmin.js";
import { FleetChannel } from "./fleetChannel.js";
import { FleetLink, type FleetLinkStats } from "./fleetLink.js";
import { heartbeatJson, type HeartbeatCounters } from "./fleetMessages.js";
import { HEARTBEAT_INTERVAL_MS, hostIdFromHostname, newRunId, validateHostId } from "./fleetNames.js";
import { FleetProfiles, type FleetProfileStats } from "./fleetProfiles.js";
import type { FleetPublisherStats } from "./fleetPublisher.js";
import type { FromWorker } from "./fleetWorker.js";
import { type FleetConnectFlags, planFleetConnection } from "./natsOptions.js";
import { ProgramIdentities } from "./programIdentity.js";

export const FLEET_SPOOL_DIR = "fleet-spool";
export const DEFAULT_FLEET_SPOOL_BYTES = 64 * 1024 * 1024;

export interface HostFleetOptions extends FleetConnectFlags {
  /** `--host-id` (default: this machine's host name, made a valid id). */
  hostId?: string;
  /** The watch's state directory: the spool and the admin file live there. */
  stateDir: string;
  spoolMaxBytes?: number;
  /** `--fleet-profiles pull`. */
  pull?: boolean;
  /** homeostat's version, for the heartbeats. */
  version: string;
  heartbeatMs?: number;
  /** Replicas of the stream and buckets when this host creates them. */
  replicas?: number;
  window?: number;
  timeoutMs?: number;
  /** Connection news and fleet operations applied, one line each, for the terminal. */
  onMessage?: (line: string) => void;
}

export interface HostFleetFigures {
  host: string;
  run: string;
  server: string;
  /** The stream's connection (in the worker) and the profiles' and operations' connection. */
  link: FleetLinkStats;
  kvLink: FleetLinkStats;
  messages: FleetPublisherStats;
  profiles: FleetProfileStats;
  /** Fleet operations received (this run) and applied to a profile. */
  adminReceived: number;
  adminApplied: number;
}

/**
 * Plans the connection (every flag checked: E_USAGE, a creds file's E_NOT_FOUND or E_PERMISSION) and opens the
 * spool; the connection itself is made in the background once `start` is called (by attach).
 */
export function openHostFleet(options: HostFleetOptions): HostFleet {
  const plan = planFleetConnection(options);
  const host = options.hostId !== undefined ? validateHostId(options.hostId) : hostIdFromHostname(hostname());
  return new HostFleet(options, host, plan);
}

export class HostFleet implements WatchObserver {
  readonly name = "fleet";
  readonly run = newRunId();
  /** The profiles' and operations' connection (the stream's is the worker's). */
  private readonly kvLink: FleetLink;
  /** Made by attach, once the watch holds the state directory (the spool is in it). */
  private channel: FleetChannel | undefined;
  private readonly profiles: FleetProfiles;
  private readonly admin: FleetAdmin;
  private monitor: HostMonitor | undefined;
  private readonly started = Date.now();
  private lastBeat = Number.NEGATIVE_INFINITY;
  private actions = 0;
  private everUp = false;
  private closing = false;

  constructor(
    private readonly options: HostFleetOptions,
    readonly host: string,
    private readonly plan: ReturnType<typeof planFleetConnection>,
  ) {
    const say = options.onMessage;
    this.admin = new FleetAdmin(path.join(options.stateDir, "fleet-admin.json"), say);
    this.profiles = new FleetProfiles({
      host,
      identities: new ProgramIdentities(),
      pull: options.pull === true,
      onIdentified: (entry, program) => this.admin.identified(entry, program),
      ...(say !== undefined ? { onMessage: say } : {}),
    });
    this.kvLink = new FleetLink({
      plan,
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      onUp: (s) => {
        this.profiles.up(s);
        this.admin.up(s);
      },
      onDown: () => {
        this.profiles.down();
        this.admin.down();
      },
    });
  }

  /** The watch has started (and holds its state directory): the spool is opened and the connections begun. */
  attach(monitor: HostMonitor): void {
    const o = this.options;
    this.channel = new FleetChannel({
      host: this.host,
      run: this.run,
      plan: this.plan,
      spoolDir: path.join(o.stateDir, FLEET_SPOOL_DIR),
      spoolMaxBytes: o.spoolMaxBytes ?? DEFAULT_FLEET_SPOOL_BYTES,
      ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
      ...(o.window !== undefined ? { window: o.window } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      onEvent: (e) => this.news(e),
    });
    this.monitor = monitor;
    this.profiles.attach(monitor);
    this.admin.attach(monitor);
    this.kvLink.start();
    this.beat();
  }

  alert(alert: HostAlert, json: string): void {
    const key = alert.output_fields["homeostat.profile"];
    // The admin's record of each profile's program (it needs it to apply fleet operations) names the alert's too.
    this.channel?.send("alerts", json, typeof key === "string" ? this.admin.programOf(key) : undefined);
  }

  action(action: ResponseAction): void {
    this.actions++;
    this.channel?.send("actions", JSON.stringify(action));
  }

  profileAdded(entry: ProfileEntry): void {
    this.profiles.added(entry);
  }

  profilesSaved(saved: readonly SavedProfile[]): void {
    this.profiles.saved(saved);
  }

  tick(final: boolean): void {
    if (final || Date.now() - this.lastBeat >= (this.options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS)) this.beat();
  }

  figures(): HostFleetFigures {
    return {
      host: this.host,
      run: this.run,
      server: this.plan.display,
      link: this.channel?.link ?? { connected: false, connects: 0, failures: 0, lastError: undefined },
      kvLink: { ...this.kvLink.stats },
      messages: this.channel?.stats ?? EMPTY_STATS,
      profiles: this.profiles.stats,
      adminReceived: this.admin.received,
      adminApplied: this.admin.applies,
    };
  }

  /** The counters a heartbeat carries. */
  counters(): HeartbeatCounters {
    const m = this.monitor?.stats();
    const profiles: Record<string, number> = {};
    for (const e of this.monitor?.profiles() ?? []) profiles[e.profile.state] = (profiles[e.profile.state] ?? 0) + 1;
    const p = this.channel?.stats ?? EMPTY_STATS;
    return {
      events: m?.events ?? 0,
      alerts: m?.alerts ?? 0,
      actions: this.actions,
      lost: m === undefined ? 0 : m.lost.kernel + m.lost.capture + m.lost.monitor,
      profiles,
      spooled: p.spooled,
      spoolDropped: p.spoolDropped,
    };
  }

  /**
   * Waits up to `drainMs` for snapshots and messages to go out, each on its own connection and each given the whole
   * time (a slow snapshot put does not cut the stream's drain short); what is left waits in the spool.
   */
  async close(drainMs: number): Promise<void> {
    this.closing = true;
    await Promise.all([Promise.race([this.profiles.settle(), sleep(drainMs)]), this.channel?.close(drainMs)]);
    this.admin.down();
    await this.kvLink.close();
  }

  private beat(): void {
    this.lastBeat = Date.now();
    const json = heartbeatJson({
      started: this.started,
      version: this.options.version,
      counters: this.counters(),
      taken: this.lastBeat,
    });
    this.channel?.send("heartbeats", json);
  }

  /** The stream connection's news, for the terminal. */
  private news(e: FromWorker): void {
    const say = this.options.onMessage;
    if (say === undefined || this.closing) return;
    const where = this.plan.display;
    if (e.kind === "up") {
      const waiting = this.channel?.stats.spooled ?? 0;
      say(`fleet: connected to ${where} as ${this.host}${waiting > 0 ? `; sending ${waiting} spooled messages` : ""}`);
      this.everUp = true;
    } else if (e.kind === "down" && this.everUp) {
      say(`fleet: lost ${where} (${e.reason}); messages wait in the spool`);
    } else if (e.kind === "attemptFailed" && e.attempt === 1) {
      say(`fleet: cannot reach ${where} (${e.reason}); messages wait in the spool`);
    }
  }
}

const EMPTY_STATS: FleetPublisherStats = {
  made: 0,
  published: 0,
  duplicates: 0,
  replayed: 0,
  rejected: 0,
  spooled: 0,
  spoolDropped: 0,
  inflight: 0,
  queued: 0,
  lastError: undefined,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
