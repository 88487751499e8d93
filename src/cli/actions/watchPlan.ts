// The flags of `homeostat watch` (registered in ../commands/watch.ts) and their checks: which backend watches what,
// the response policies and the static policy, refused (E_USAGE) before anything is opened.

import { HomeostatError } from "../../errors.js";
import { RESPONSE_POLICIES, type ResponsePolicy } from "../../response/responder.js";
import { STATIC_POLICIES, type StaticPolicy, type WatchBackend } from "../../watch/hostWatch.js";
import { refuseCommandAndPid } from "../commandArgs.js";
import type { WatchFleetFlags } from "./watchFleet.js";

export interface WatchFlags extends WatchFleetFlags {
  backend?: string;
  model?: string;
  pid?: number;
  state?: string;
  response: string;
  static: string;
  staticModel: string;
  staticWait: number;
  dryRun?: boolean;
  allow: string[];
  delayFactor: number;
  maxDelay: number;
  suspendExecveTime: number;
  execveLimit?: number;
  normalFactor: number;
  normalFactorDen: number;
  normalWait: number;
  anomalyLimit: number;
  tolerizeLimit: number;
  saveInterval: number;
  duration?: number;
  maxTasks: number;
  maxProfiles: number;
  ringBufferPages?: number;
  keepAlerts: number;
  json?: boolean;
  alerts?: string;
  quiet?: boolean;
  metrics?: string;
  alertsHttp?: string;
  alertsHttpPipeline: number;
  spoolSize: number;
  drainTime: number;
  alertsSyslog?: boolean;
  syslogSocket?: string;
  syslogFacility: string;
  config?: string;
}

export function parsePolicies(text: string): Set<ResponsePolicy> {
  const out = new Set<ResponsePolicy>();
  for (const p of text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    if (!(RESPONSE_POLICIES as readonly string[]).includes(p)) {
      throw new HomeostatError(
        "E_USAGE",
        `unknown --response "${p}" (${RESPONSE_POLICIES.join(", ")}; several joined by commas)`,
      );
    }
    out.add(p as ResponsePolicy);
  }
  if (out.size === 0) out.add("log");
  return out;
}

/** The flags, checked: the backend, response policies and static policy they name. */
export interface WatchPlan {
  backend: WatchBackend;
  policies: Set<ResponsePolicy>;
  staticPolicy: StaticPolicy;
}

export function planWatch(command: string[], opts: WatchFlags): WatchPlan {
  refuseCommandAndPid(command, opts.pid);
  const targeted = command.length > 0 || opts.pid !== undefined;
  const backend = (opts.backend ?? (targeted ? "strace" : "bpftrace")) as WatchBackend;
  if (backend !== "bpftrace" && backend !== "strace") {
    throw new HomeostatError("E_USAGE", `unknown --backend "${opts.backend}" (bpftrace, strace)`);
  }
  if (backend === "strace" && !targeted) {
    throw new HomeostatError(
      "E_USAGE",
      "the strace backend watches one program: give a command after `--`, or --pid PID",
    );
  }
  if (backend === "bpftrace" && targeted) {
    throw new HomeostatError(
      "E_USAGE",
      "the bpftrace backend watches the whole host; a command or --pid needs --backend strace",
    );
  }
  const policies = parsePolicies(opts.response);
  if (!(STATIC_POLICIES as readonly string[]).includes(opts.static)) {
    throw new HomeostatError("E_USAGE", `unknown --static "${opts.static}" (${STATIC_POLICIES.join(", ")})`);
  }
  if (opts.staticModel !== "digraph" && opts.staticModel !== "set") {
    throw new HomeostatError("E_USAGE", `unknown --static-model "${opts.staticModel}" (digraph, set)`);
  }
  return { backend, policies, staticPolicy: opts.static as StaticPolicy };
}
