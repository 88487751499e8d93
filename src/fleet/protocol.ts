// The fleet protocol: what a watch host and the central `fleet serve` say to each other over NATS JetStream (the
// contract of docs and issue 13). Names and ids (fleetNames.ts), message bodies (fleetMessages.ts), profile
// snapshots (profileSnapshot.ts) and administrator operations (adminOp.ts). Nothing here touches the network, so
// both sides may load it for free; decoders validate and throw HomeostatError (E_PARSE, E_VERSION).

export * from "./fleetNames.js";
export * from "./fleetMessages.js";
export * from "./profileSnapshot.js";
export * from "./adminOp.js";
export { parseJsonVersioned, parseWith } from "./fleetJson.js";
