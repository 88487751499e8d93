// The homeostat command line, for embedding: build the program or run it with an argument vector.

export { buildProgram, main } from "./main.js";
