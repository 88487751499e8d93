// What the alert-output benchmarks share (bench/outputs.js, bench/fleet-publish.js): the two inputs they feed the
// engine, and their method, every variant warmed up and then run once per round in an order that rotates from round
// to round, medians compared (the machine may be shared: the best of a few runs would favour whichever variant got
// a quiet moment).
//
// The inputs are the monitor bench's synthetic host (bench/monitor.js). `steady`: profiles that settle (no rare
// branches), then a call no program makes every ANOMALY_EVERY calls, which at this engine's speed is about 2,000
// alerts a second: the fleet issue's load for 50 hosts together, put on one host. `sparse`: the same with a
// foreign call 50 times rarer, a few hundred alerts a second, most of them the profiles' own lifecycle alerts
// (frozen, normal) as they settle. `storm`: the monitor bench's own input, profiles cycling through pH's states,
// tens of thousands of alerts a second.
import { readFileSync } from "node:fs";
import { render, rng } from "./monitor.js";

export const ANOMALY_EVERY = 4000;

export const WORKLOADS = {
  steady: () => render(rng(6), { rare: 0, anomalyEvery: ANOMALY_EVERY, calls: 24_000_000 }),
  sparse: () => render(rng(6), { rare: 0, anomalyEvery: 50 * ANOMALY_EVERY, calls: 24_000_000 }),
  storm: () => render(rng(6)),
};

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs every variant once unmeasured, then `rounds` rounds, the order rotating; the results by variant. */
export async function rotatedRounds(variants, rounds) {
  const names = Object.keys(variants);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await variants[n]();
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(i + k) % names.length];
      runs[n].push(await variants[n]());
    }
  }
  return runs;
}

/** CPU seconds of this process's main thread (user + system), or NaN where /proc does not say. */
export function mainThreadCpu() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return Number.NaN;
  }
}

/**
 * The figures of one input's runs, `on` naming the variant with the outputs on: medians of each variant, the drop
 * from the bare engine and from the JSON-only variant (the one checked), and per round (each run with the outputs
 * on against the same round's other runs, which ran next to it: less sensitive to a machine whose speed drifts).
 */
export function dropFigures(input, runs, on) {
  const { base, json } = runs;
  const out = runs[on];
  const eps = (rs) => median(rs.map((r) => r.eventsPerSecond));
  const cpu = (rs) => median(rs.map((r) => r.eventsPerCpuSecond));
  const [b, j, w] = [eps(base), eps(json), eps(out)];
  const [bCpu, jCpu, wCpu] = [cpu(base), cpu(json), cpu(out)];
  const pairs = (other) => median(out.map((r, i) => (1 - r.eventsPerSecond / other[i].eventsPerSecond) * 100));
  // The engine thread's own price of an alert: its extra CPU over the JSON-only variant, per alert.
  const mainSeconds = (rs) => median(rs.map((r) => r.mainThreadCpuSeconds));
  const all = [...base, ...json, ...out];
  const loads = all.flatMap((r) => r.load ?? []);
  return {
    input: { calls: input.calls, bytes: input.bytes, chunks: input.chunks.length },
    base: { medianEventsPerSecond: b, medianEventsPerCpuSecond: bCpu, runs: base },
    jsonOnly: { medianEventsPerSecond: j, medianEventsPerCpuSecond: jCpu, runs: json },
    [on]: {
      medianEventsPerSecond: w,
      medianEventsPerCpuSecond: wCpu,
      medianAlertsPerSecond: median(out.map((r) => r.alerts / r.seconds)),
      runs: out,
    },
    dropPercent: (1 - w / b) * 100,
    dropFromJsonPercent: (1 - w / j) * 100,
    medianPairDropPercent: pairs(base),
    medianPairDropFromJsonPercent: pairs(json),
    mainThreadCpuDropPercent: (1 - wCpu / bCpu) * 100,
    mainThreadCpuDropFromJsonPercent: (1 - wCpu / jCpu) * 100,
    mainThreadMicrosecondsPerAlert: ((mainSeconds(out) - mainSeconds(json)) / out[0].alerts) * 1e6,
    ...(loads.length > 0 ? { loadAverage: { median: median(loads), max: Math.max(...loads) } } : {}),
  };
}

/** The line that says the reported figures of `workloads` (steady, sparse, storm), `on` naming the outputs' variant. */
export function reportedLine({ steady, sparse, storm }, on) {
  const rate = (w) => Math.round(w[on].medianAlertsPerSecond);
  return (
    `per round, against the JSON-only run beside it, the checked load loses a median ${steady.medianPairDropFromJsonPercent.toFixed(1)}%; ` +
    `at a sparser load (${rate(sparse)} alerts/s) it loses ${sparse.dropFromJsonPercent.toFixed(1)}%, in the alert ` +
    `storm (${rate(storm)} alerts/s) ${storm.dropFromJsonPercent.toFixed(1)}% (both reported, not checked)`
  );
}
