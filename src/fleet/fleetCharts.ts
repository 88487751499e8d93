// The fleet console's chart: alerts per hour stacked by host, a Vega-Lite spec rendered in the browser by serve's
// console.js (the same embedding, assets and Content-Security-Policy as the single-host console's charts).

import type { Chart } from "../report/vegaPage.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

export function alertsByHostChart(id: string, hourly: readonly { hour: number; host: string; n: number }[]): Chart {
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: "Alerts per hour, by host", subtitle: "the last 7 days of alerts stored" },
      data: { values: hourly.map((h) => ({ time: h.hour * 3600 * 1000, host: h.host, n: h.n })) },
      mark: { type: "bar" },
      width: 900,
      height: 160,
      encoding: {
        x: { field: "time", type: "temporal", timeUnit: "yearmonthdatehours", title: "hour (UTC)" },
        y: { field: "n", type: "quantitative", aggregate: "sum", title: "alerts" },
        color: { field: "host", type: "nominal", legend: { columns: 2, symbolLimit: 60 } },
      },
      config: { timeFormatType: "utc" },
    },
  };
}
