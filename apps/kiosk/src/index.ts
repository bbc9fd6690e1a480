export {
  type GateAlert,
  GateBackend,
  type GateBackendEvents,
  type GateBackendOptions,
  type LaneBinding,
  type LaneScreen,
  type LaneView,
  type ScanOutcome,
} from "./backend/gate-backend.js";
export { KioskHttp, type KioskHttpOptions, type Steward } from "./backend/http.js";
export {
  type GateConfig,
  GateConfigError,
  type LaneConfig,
  parseGateConfig,
  readGateConfig,
} from "./gate/config.js";
export { DEFAULT_UI_DIR, type GateNode, type GateNodeOptions, startGateNode } from "./gate/gate-node.js";
