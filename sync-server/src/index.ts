export {
  type BrokerAudit,
  type BrokerCredentials,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  startEmbeddedBroker,
  storeCredentials,
} from "./broker/aedes.js";
export { BrokerProcess } from "./broker/supervisor.js";
export {
  type CommandIo,
  loadOrCreateTokens,
  MOSQUITTO_CONFIG_USAGE,
  runMosquittoConfigCommand,
  runSyncServerCommand,
  SYNC_SERVER_USAGE,
} from "./cli.js";
export { type ApiToken, parseCursor, type Role } from "./http/api.js";
export { type MosquittoConfigOptions, type MosquittoFiles, writeMosquittoConfig } from "./mosquitto.js";
export { mosquittoHash, verifyMosquittoHash } from "./secrets.js";
export {
  ApiError,
  type BrokerChoice,
  DEFAULT_SERVER_TUNING,
  openServerStore,
  provisionGateInStore,
  type ServerEvents,
  SyncServer,
  type SyncServerOptions,
  type SyncServerTuning,
} from "./server.js";
export {
  type Alert,
  type Counts,
  type GateRecord,
  type IngestResult,
  type RejectionRecord,
  ServerStore,
  type StoredEvent,
  wireEvent,
} from "./store.js";
export { csvObjects, type ImportRow, parseCsv, type RowRejection, validateImportRow } from "./tickets.js";
