// Public names of the fleet layer: the protocol both sides speak over NATS JetStream, the host side of fleet mode
// (a watch observer), and what the central side shares with it (stream and bucket set-up, connection options).

export * from "./protocol.js";
export { ensureBucket, ensureStream, natsErrorKind } from "./fleetSetup.js";
export {
  type FleetConnectFlags,
  type FleetConnectPlan,
  planFleetConnection,
  natsConnectionOptions,
} from "./natsOptions.js";
export { ProgramIdentities } from "./programIdentity.js";
export {
  DEFAULT_FLEET_SPOOL_BYTES,
  FLEET_SPOOL_DIR,
  HostFleet,
  type HostFleetOptions,
  openHostFleet,
} from "./hostFleet.js";
// The central side: `homeostat fleet serve` (the fleet database, the durable consumer, the profiles watch, pooling,
// the console) and the administrator's fleet-wide operations.
export { type FleetServeOptions, type RunningFleetServe, startFleetServe } from "./fleetServe.js";
export { FLEET_DB_NAME, FleetStore } from "./fleetStore.js";
export { FLEET_SCHEMA_VERSION } from "./fleetSchema.js";
export { createFleetConsoleApp, type FleetConsoleOptions } from "./fleetConsole.js";
export { type AdminRequest, requestAdminOp, requestFleetOperation, resolveFleetPrograms } from "./adminRequest.js";
export { FLEET_CONSUMER } from "./centralNats.js";
