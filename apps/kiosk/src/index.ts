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
