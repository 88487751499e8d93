// Public names of the ingestion stage: one event model, one parser per trace format (strace, UNM, ADFA-LD, LID-DS
// 2021/2019, homeostat's binary format), input enumeration of folders and archives, dataset layouts (ADFA-LD,
// LID-DS, homeostat's scenarios benchmark), and loading traces into typed arrays.

export * from "./adfaLayout.js";
export * from "./adfaParser.js";
export * from "./binaryTrace.js";
export * from "./binaryTraceWriter.js";
export * from "./event.js";
export * from "./format.js";
export * from "./formats.js";
export * from "./inputs.js";
export * from "./lidds2019Parser.js";
export * from "./liddsLayout.js";
export * from "./liddsMetadata.js";
export * from "./liddsParser.js";
export * from "./liddsRecordingZip.js";
export * from "./loadTraces.js";
export * from "./reader.js";
export * from "./scenariosLayout.js";
export * from "./scenariosManifest.js";
export * from "./straceParser.js";
export * from "./streamChunker.js";
export * from "./sysdigCalls.js";
export * from "./traceCollector.js";
export * from "./traceStats.js";
export * from "./unmParser.js";
