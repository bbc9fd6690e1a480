// Test doubles: imported through "@sesame/gate-core/testing", by tests and benchmarks only.
export { MemoryFacts } from "./memory-facts.js";
