// Public names of the syscall vocabulary stage: ABI tables, the vocabulary, tracer aliases and categories.

export * from "./abi.js";
export * from "./aliases.js";
export * from "./categories.js";
export { categoriesMarkdown } from "./categoriesMarkdown.js";
export * from "./i386.js";
export * from "./vocabulary.js";
export * from "./x86_64.js";
