export { KioskHttp, type KioskHttpOptions, type Steward } from "./backend/http.js";
export {
  type GateConfig,
  GateConfigError,
  type LaneConfig,
  parseGateConfig,
  readGateConfig,
} from "./gate/config.js";
export { DEFAULT_UI_DIR, type GateNode, type GateNodeOptions, startGateNode } from "./gate/gate-node.js";
