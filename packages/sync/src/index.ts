export {
  filterCovers,
  mayPublish,
  maySubscribe,
  mosquittoAcl,
  type Principal,
  publishRefusal,
  type TopicRights,
  topicMatches,
  topicRights,
  willRefusal,
} from "./acl.js";
export { type AdmissionsCheck, type AdmissionsCheckContext, verifyAdmissions } from "./admissions-check.js";
export { type CacheLike, CacheSyncStore } from "./cache-adapter.js";
export { type FeedVerdict, verifyFeedMessage } from "./feed-signature.js";
export {
  type CommandResult,
  DEFAULT_GATE_TUNING,
  GateSync,
  type GateSyncEvents,
  type GateSyncOptions,
  type GateSyncStatus,
  type GateSyncTuning,
  type HttpConnector,
  type MqttConnector,
  mqttConnector,
  noDelay,
  type SyncClock,
  type SyncLogEntry,
  type SyncMqttClient,
  systemSyncClock,
} from "./gate-sync.js";
export { MemoryMqttClient } from "./memory-mqtt.js";
export * from "./operations.js";
export * from "./protocol.js";
export {
  type GateKeyRequest,
  type GateProvisioning,
  gateKeyRequest,
  keyRequestProblem,
  PROVISIONING_FORMAT,
  parseGateKeyRequest,
  parseProvisioning,
} from "./provisioning.js";
export {
  bundleSigner,
  checkSupervisorPart,
  eventBatchSigningBytes,
  signAdmissionsOrder,
  signCommandText,
  signEventBatch,
  verifyAdmissionsSeal,
  verifyBundleSignature,
  verifyCommandText,
  verifyEventBatch,
} from "./signing.js";
export type { GateSyncStore, Snapshot } from "./store.js";
export {
  GATE_PUBLISH_LEAVES,
  GATE_RECEIVE_LEAVES,
  gateIdOfUsername,
  gateUsername,
  ID_PATTERN,
  isValidId,
  type ParsedTopic,
  parseTopic,
  SERVER_USERNAME,
  type VenueTopics,
  venueTopics,
} from "./topics.js";
export { FieldError } from "./validate.js";
export { type AckOutcome, type InFlightBatch, OutboxWindow, SequenceTracker } from "./window.js";
