export {
  BundleFormatError,
  decodeGateBundle,
  encodeGateBundle,
  REVOCATION_COLUMNS,
  TICKET_COLUMNS,
} from "./bundle.js";
export {
  type ChangeRefusal,
  type ChangeSigner,
  type ChangeVerdict,
  canonicalJson,
  changeSigningBytes,
  feedChangeOf,
  type IssuedTicketChange,
  issuerChangeSigner,
  signTicketChange,
  verifyIssuedChange,
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
  type VenueSecrets,
  type VerifiedBundle,
  verifyBundleBytes,
  writeVenueDirectory,
} from "./files.js";
export {
  bundleTicketOf,
  csvObjects,
  devicePublicKeyProblem,
  type FaceValue,
  faceValueOf,
  holderName,
  type ImportRow,
  isWeakDeviceKeyRefusal,
  parseCsv,
  type RowRejection,
  validateImportRow,
} from "./import-rows.js";
export * from "./model.js";
export {
  ROOT_KEY_FORMAT,
  RootKeyError,
  type RootKeyFile,
  readRootKeyFile,
  writeRootKeyFile,
} from "./root-key.js";
export {
  checkVenueTimes,
  readSessionTimes,
  readVenueTime,
  type SessionTimes,
  sessionTimes,
  timezoneProblem,
  type VenueTime,
  VenueTimeError,
} from "./session-times.js";
export {
  SUPERVISOR_CERTIFICATE_FORMAT,
  SUPERVISOR_COMMAND_DOMAIN,
  SUPERVISOR_KEY_REQUEST_FORMAT,
  supervisorCommandBytes,
} from "./supervisor-command-domain.js";
export {
  parseSupervisorCertificate,
  type SignedSupervisorCertificate,
  SUPERVISOR_ACCOUNT,
  type SupervisorCertificate,
  SupervisorCertificateError,
  type SupervisorCheck,
  type SupervisorSignature,
  signSupervisorCertificate,
  signSupervisorCommand,
  supervisorKeyProblem,
  verifySupervisorCertificate,
  verifySupervisorCommand,
} from "./supervisor-keys.js";
export {
  checkSupervisors,
  hashOverrideCode,
  OVERRIDE_CODE,
  SUPERVISOR_ID,
  type Supervisor,
  SupervisorCodeError,
  verifyOverrideCode,
} from "./supervisors.js";
export { controlCharacter, printable } from "./text.js";
export { ticketCredential } from "./ticket-credential.js";
