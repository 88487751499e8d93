// Public names of the reporting stage: self-contained HTML pages with Vega-Lite charts (eval reports).

export * from "./htmlReport.js";
export * from "./vegaPage.js";
