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
  type ScanOutcome,
} from "./gate-backend.js";
