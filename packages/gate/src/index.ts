export {
  createGate,
  type Gate,
  type GateEvents,
  type GateLaneSetup,
  type GateNotice,
  type GatePorts,
  type GateSetup,
  type LaneLink,
  osdpTransport,
  type ReaderStatus,
} from "./create-gate.js";
export {
  type GateAlert,
  GateBackend,
  type GateBackendEvents,
  type GateBackendOptions,
  LaneActionError,
  type LaneBinding,
  type LaneScreen,
  type LaneView,
  type OverrideAttempt,
  OverrideError,
  type OverrideProblem,
  type ScanOutcome,
  type VerifiedOverride,
} from "./gate-backend.js";
export {
  GATE_KEY_FILE,
  gateKeyFile,
  loadOrCreateGateKey,
  newGateKey,
  provisioningRequestOf,
} from "./gate-key.js";
