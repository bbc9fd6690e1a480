export {
  type BusCounters,
  ControlPanel,
  type ControlPanelEvents,
  type ControlPanelOptions,
  type PeripheralConfig,
  type PeripheralInfo,
  type PeripheralStatus,
  SECURE_CHANNEL_FAILED,
} from "./cp/controlPanel.js";
export { ControlPanelError, type ControlPanelErrorCode } from "./cp/errors.js";
export * from "./lane/index.js";
export { checksum8, crc16 } from "./osdp/check.js";
export * from "./osdp/constants.js";
export * from "./osdp/messages.js";
export * from "./osdp/packet.js";
export * from "./osdp/secureChannel.js";
export * from "./osdp/secureFrame.js";
export { createMemoryLink } from "./transport/memory.js";
export { type LinkTarget, parseLinkTarget, transportFactory } from "./transport/open.js";
export { openSerialTransport, type SerialOptions } from "./transport/serial.js";
export { connectTcpTransport, socketTransport } from "./transport/tcp.js";
export {
  BaseTransport,
  type Transport,
  TransportError,
  type TransportFactory,
} from "./transport/transport.js";
export { type Clock, systemClock } from "./util/clock.js";
export { TypedEmitter } from "./util/emitter.js";
