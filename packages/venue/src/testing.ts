/* Test doubles of the venue package: an issuer in memory. */
export { MemoryIssuer, type MemoryIssuerOptions } from "./memory-issuer.js";
