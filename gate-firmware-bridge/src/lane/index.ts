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
  DIRECTIONS,
  type Direction,
  type DirectionCounters,
  type Grant,
  type LaneCounters,
  LaneLedger,
  type LedgerOptions,
  type PassageAttribution,
} from "./ledger.js";
