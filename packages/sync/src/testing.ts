// Test doubles: imported through "@sesame/sync/testing", by tests and benchmarks only.
export { MemoryGateStore } from "./memory-store.js";
export { type TestGate, TestVenueKeys, testGateKey } from "./test-venue.js";
