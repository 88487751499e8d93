// What `homeostat watch` says at its start (what is watched, where alerts go) and at its end: the summary as text
// on stderr, or as one more Falco-shaped JSON line on stdout (--json) so that every line of the stream parses alike.

import type { HostWatchSummary } from "../../watch/hostWatch.js";
import type { AlertOutputStats } from "../../watch/outputs/alertOutputs.js";
import { num, paint } from "../terminal.js";
import { printFleetTotals } from "./watchFleet.js";
import type { WatchFlags, WatchPlan } from "./watchPlan.js";
import type { Services } from "./watchServices.js";

/** The line that says what is watched, with which policies, and where alerts and metrics go. */
export function announce(
  command: string[],
  opts: WatchFlags,
  plan: WatchPlan,
  statePath: string,
  services: Services,
): void {
  const what =
    plan.backend === "bpftrace" ? "the host (eBPF)" : command.length > 0 ? command.join(" ") : `pid ${opts.pid}`;
  const model = plan.staticPolicy === "off" ? "" : ` (${opts.staticModel})`;
  const o = services.outputs.stats;
  const a = services.server?.address;
  const extras = [
    ...(o.http !== undefined ? [`alerts to ${o.http.url} (${o.http.replayed} spooled from before)`] : []),
    ...(o.syslog !== undefined ? [`alerts to syslog at ${o.syslog.path}`] : []),
    ...(a !== undefined
      ? [`metrics at http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}/metrics`]
      : []),
  ];
  process.stderr.write(
    `homeostat: watching ${what}; state in ${statePath}; response ${[...plan.policies].join(",")}` +
      `${opts.dryRun ? " (dry run)" : ""}; static models ${plan.staticPolicy}${model}` +
      `${extras.map((e) => `; ${e}`).join("")}; Ctrl-C to stop\n`,
  );
}

/** The summary at the end, as text or JSON. */
export function report(s: HostWatchSummary, opts: WatchFlags, interrupted: boolean, outputs: AlertOutputStats): void {
  const body = {
    ...summaryFields(s, interrupted),
    outputs,
    ...(s.observers.fleet !== undefined ? { fleet: s.observers.fleet } : {}),
  };
  if (opts.json) printJsonSummary(s, body);
  else {
    printTotals(s, body);
    if (s.static.policy !== "off") printStaticTotals(s.static);
    printOutputTotals(outputs);
    printFleetTotals(s.observers.fleet);
  }
}

/** What the alert outputs did, when there were any. */
function printOutputTotals(o: AlertOutputStats): void {
  const err = process.stderr;
  if (o.http !== undefined) {
    const h = o.http;
    err.write(
      `homeostat: alerts to ${h.url}: ${num(h.delivered)} delivered, ${num(h.rejected)} rejected, ` +
        `${num(h.spoolPending)} waiting in the spool for the next start` +
        `${h.overflowed > 0 ? paint(`, ${num(h.overflowed)} did not fit the spool`, "red", err) : ""}` +
        `${h.failures > 0 ? ` (${num(h.failures)} failed attempts; last: ${h.lastError})` : ""}\n`,
    );
  }
  if (o.syslog !== undefined) {
    const y = o.syslog;
    err.write(`homeostat: alerts to syslog ${y.path}: ${num(y.sent)} sent, ${num(y.dropped)} dropped\n`);
  }
}

type SummaryFields = ReturnType<typeof summaryFields> & { outputs: AlertOutputStats };

/** The summary's numbers: the JSON summary's output_fields, and what the text summary prints. */
function summaryFields(s: HostWatchSummary, interrupted: boolean) {
  const m = s.monitor;
  return {
    backend: s.backend,
    seconds: Number((s.endedAt - s.startedAt).toFixed(3)),
    captured: s.capture.syscalls,
    ...(s.capture.kernelSyscalls !== undefined ? { kernelCounted: s.capture.kernelSyscalls } : {}),
    processed: m.processed,
    ignored: m.ignored,
    unattributed: m.unattributed,
    pending: m.pending,
    dropped: m.dropped,
    lost: m.lost,
    tasks: m.tasks,
    profiles: m.profiles,
    profilesSaved: s.profilesSaved,
    saves: s.saves,
    alerts: m.alerts,
    suppressedAlerts: m.suppressedAlerts,
    alertsStored: s.alertsStored,
    actionsStored: s.actionsStored,
    queueDropped: s.queueDropped,
    reloaded: s.reloaded,
    unreadable: s.unreadable,
    static: s.static,
    responder: s.responder,
    interrupted,
    ...(s.command !== undefined
      ? { exitCode: s.command.exitCode, ...(s.command.signal !== undefined ? { signal: s.command.signal } : {}) }
      : {}),
  };
}

/** A summary in the same Falco shape as the alerts, so that every line of the stream parses alike. */
function printJsonSummary(s: HostWatchSummary, body: SummaryFields): void {
  process.stdout.write(
    `${JSON.stringify({
      time: new Date(s.endedAt * 1000).toISOString(),
      rule: "homeostat watch summary",
      priority: "Informational",
      source: "syscall",
      hostname: "",
      tags: ["homeostat", "summary"],
      output: `homeostat watch ended: ${body.captured} events captured, ${body.processed} processed`,
      output_fields: body,
    })}\n`,
  );
}

function printTotals(s: HostWatchSummary, body: SummaryFields): void {
  const m = s.monitor;
  const lost = m.lost.kernel + m.lost.capture + m.lost.monitor;
  const err = process.stderr;
  err.write(
    `homeostat: ${num(body.captured)} events captured${body.kernelCounted !== undefined ? ` (${num(body.kernelCounted)} counted in the kernel)` : ""}, ` +
      `${num(body.processed)} scored, ${num(body.unattributed)} unattributed, ${num(body.ignored)} of homeostat ignored; ` +
      `${lost === 0 ? "none lost" : paint(`${num(lost)} lost (kernel ${m.lost.kernel}, capture ${m.lost.capture}, monitor ${m.lost.monitor})`, "red", err)}\n` +
      `homeostat: ${num(m.profiles)} profiles (${num(s.profilesSaved)} saves of profiles), ${num(m.alerts)} alerts, ` +
      `${num(s.responder.paused)} pauses (${num(s.responder.pausedMs)} ms), ${num(s.responder.killed)} kills, ` +
      `${num(s.responder.suspended)} suspended execve, ${num(s.responder.refused)} refused\n`,
  );
}

function printStaticTotals(st: HostWatchSummary["static"]): void {
  const err = process.stderr;
  const outside =
    st.impossibleCalls === 0
      ? "no call outside them"
      : paint(
          `${num(st.impossibleCalls)} calls outside them${st.impossibleUncertain > 0 ? ` (${num(st.impossibleUncertain)} outside incomplete models)` : ""}`,
          "red",
          err,
        );
  err.write(
    `homeostat: static models: ${num(st.analysed)} analysed, ${num(st.fromStore)} from the store, ${num(st.reanalysed)} re-derived, ` +
      `${num(st.failed)} failed, ${num(st.dropped)} dropped (queue full), ${num(st.unfinished)} unfinished; ${outside}\n`,
  );
}
