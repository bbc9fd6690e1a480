// Test doubles: imported through "@sesame/bridge/testing", by tests and benchmarks only. (The
// in-memory link, createMemoryLink, is no double: the virtual rehearsal runs real OSDP over it.)
export { ManualClock } from "./util/manualClock.js";
