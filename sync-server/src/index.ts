export { csvObjects, type ImportRow, parseCsv, type RowRejection, validateImportRow } from "@sesame/venue";
// doubleEntryAlert: the admission model test (test/admission) asks the server's own policy which entries it flags.
export { doubleEntryAlert, TECH_ALERTS, type TicketPresence } from "./alerts/policy.js";
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
  DASHBOARD_USER_USAGE,
  loadOrCreateTokens,
  loadUsers,
  MOSQUITTO_CONFIG_USAGE,
  OPERATIONS_CERTIFICATE_USAGE,
  runDashboardUserCommand,
  runMosquittoConfigCommand,
  runOperationsCertificateCommand,
  runSyncServerCommand,
  SYNC_SERVER_USAGE,
} from "./cli.js";
export { ApiError } from "./errors.js";
export { type ApiToken, CSRF_HEADER, type HttpOptions, parseCursor, type Role } from "./http/api.js";
export {
  type DashboardRole,
  type DashboardUser,
  DEFAULT_SCRYPT_COST,
  hashPassword,
  type ScryptCost,
  type SessionLimits,
  type ThrottleLimits,
  verifyPassword,
} from "./http/auth.js";
export { csvField, ENTRY_CSV_COLUMNS } from "./http/export.js";
export { DASHBOARD_CSP } from "./http/static.js";
export { type BatchOutcome, type BatchStore, handleEventBatch } from "./ingest/batch.js";
export { AdmissionsFanOut, FAN_OUT_WINDOW_MS } from "./ingest/fan-out.js";
export {
  currentGateList,
  installOperationsCertificate,
  operationsCertificate,
  operationsPublicKey,
  operationsSeed,
} from "./keys/operations.js";
export { type MosquittoConfigOptions, type MosquittoFiles, writeMosquittoConfig } from "./mosquitto.js";
export {
  MIGRATE_ROOT_USAGE,
  ROOT_OPERATIONS_CERTIFICATE_USAGE,
  ROOT_TRUST_LIST_USAGE,
  runMigrateRootCommand,
  runRootOperationsCertificateCommand,
  runRootTrustListCommand,
} from "./root/cli.js";
export {
  certifyOperationsKey,
  DEFAULT_OPERATIONS_DAYS,
  MAX_OPERATIONS_DAYS,
  type NewIssuerKey,
  signNextTrustList,
  type TrustListChange,
} from "./root/root-signing.js";
export { demoRootKeyFile, type SetUpOptions, setUpServer, setUpServerStore } from "./root/set-up.js";
export { mosquittoHash, verifyMosquittoHash } from "./secrets.js";
export {
  type BrokerChoice,
  type CommandInput,
  DEFAULT_SERVER_TUNING,
  openServerStore,
  provisionGateInStore,
  type ServerEvents,
  SyncServer,
  type SyncServerOptions,
  type SyncServerTuning,
} from "./server.js";
export {
  ALERT_TYPES,
  type Alert,
  type AlertType,
  type Counts,
  FORGERY_REASONS,
  type GateRecord,
  type IngestResult,
  type NewAlert,
  type RejectionRecord,
  ServerStore,
  type StoredEvent,
  type ThroughputMinute,
  wireEvent,
} from "./store.js";
