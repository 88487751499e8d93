// Public names of the reporting stage: self-contained HTML pages with Vega-Lite charts (eval reports, the inspect
// report of a data set), and the tables and charts they share.

export * from "./htmlReport.js";
export * from "./scenariosReport.js";
export * from "./vegaPage.js";
export * from "./htmlTable.js";
export * from "./datasetReport.js";
export * from "./cleaningTables.js";
export * from "./datasetCharts.js";
export * from "./heatmapChart.js";
