export * from "./camera/index.js";
export { runSimLaneCommand, type SimLaneIo } from "./cli/simLane.js";
export {
  Crowd,
  type CrowdClock,
  type CrowdCounters,
  type CrowdLane,
  type CrowdOptions,
  type Expectation,
  type PersonOutcome,
  realCrowdClock,
  type Spectator,
} from "./crowd/crowd.js";
export {
  LaneController,
  type LaneControllerEvents,
  type LaneControllerOptions,
  type LedState,
  SIM_VENDOR_CODE,
} from "./lane/laneController.js";
export { type ReaderOptions, SimReader } from "./lane/reader.js";
export {
  openEndpoint,
  type SimEndpoint,
  type SimLane,
  type SimLaneOptions,
  startSimLane,
} from "./lane/simLane.js";
export { Turnstile, type TurnstileOptions, type WalkOutcome } from "./lane/turnstile.js";
export { SimBus, type SimBusCounters, type SimBusOptions } from "./osdp/bus.js";
export { type BusEndpoint, listenTcp, openPtyEndpoint } from "./osdp/endpoints.js";
export {
  type PeripheralApplication,
  type PeripheralCounters,
  PeripheralDevice,
  type PeripheralOptions,
} from "./osdp/peripheral.js";
export { PacedWriter } from "./osdp/wire.js";
export { startSocatPair, stopSocat } from "./pty.js";
export * from "./scanner/index.js";
