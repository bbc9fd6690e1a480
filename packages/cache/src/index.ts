export {
  BundleError,
  CacheError,
  CacheFileError,
  FeedError,
  FeedGapError,
  JournalError,
  ManualAdmissionError,
} from "./errors.js";
export { CacheFacts, type VenueState } from "./facts.js";
export { DEFAULT_LOOKUP_LIMIT, type LookupHit, type LookupOptions, type LookupResult } from "./lookup.js";
export {
  APPLICATION_ID,
  LATEST_VERSION,
  MIGRATIONS,
  type Migration,
  migrate,
  schemaVersion,
} from "./migrations.js";
export { foldText, nameTokens, orderKey, queryWords } from "./normalize.js";
export {
  type AnnulCause,
  type ApplySummary,
  type Authorization,
  type AuthorizationRecorded,
  type AuthorizationState,
  GateStore,
  type ImportSummary,
  LATE_PASSAGE,
  type ManualAdmission,
  type OpenOptions,
  type PassageRecorded,
  type Recorded,
  type RefusedChange,
  type RemoteEntryOutcome,
  type ScanPlace,
} from "./store.js";
