export {
  BundleFormatError,
  decodeGateBundle,
  encodeGateBundle,
  REVOCATION_COLUMNS,
  TICKET_COLUMNS,
} from "./bundle.js";
export {
  type SignedTicketChange,
  signTicketChange,
  type TicketChangeVerification,
  ticketChangeBytes,
  verifyTicketChange,
} from "./change-signature.js";
export {
  type DemoOptions,
  type DemoTicketRow,
  type DemoTicketState,
  type DemoVenue,
  demoFaceValue,
  demoLayout,
  generateDemoVenue,
  type WalletEntry,
  walletCode,
} from "./demo.js";
export {
  readChanges,
  readGateBundle,
  readSecrets,
  readVenue,
  readWallets,
  signBundleBytes,
  toCsv,
  VENUE_FILES,
  VenueFileError,
  type VerifiedBundle,
  verifyBundleBytes,
  writeVenueDirectory,
} from "./files.js";
export {
  bundleTicketOf,
  csvObjects,
  type FaceValue,
  faceValueOf,
  holderName,
  type ImportRow,
  parseCsv,
  type RowRejection,
  validateImportRow,
} from "./import-rows.js";
export * from "./model.js";
export { controlCharacter, printable } from "./text.js";
export { ticketCredential } from "./ticket-credential.js";
