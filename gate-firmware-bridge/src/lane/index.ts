export { LaneError, type LaneErrorCode } from "./errors.js";
export {
  DEFAULT_WIRING,
  Lane,
  type LaneEvents,
  type LaneOptions,
  type LaneWiring,
  type PassageEvent,
  type ScanEvent,
} from "./lane.js";
export {
  type ClosedGrant,
  DIRECTIONS,
  type Direction,
  type DirectionCounters,
  type Grant,
  type LaneCounters,
  LaneLedger,
  type LateClaim,
  type LedgerOptions,
  type PassageAttribution,
} from "./ledger.js";
