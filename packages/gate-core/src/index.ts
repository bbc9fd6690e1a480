export { ClockWatch } from "./clock-watch.js";
export {
  type DecideOptions,
  type Decision,
  type Direction,
  decideCredential,
  decideScan,
  type LaneMode,
  type ScanContext,
} from "./decide.js";
export type { EntryLogEvent } from "./events.js";
export type { GateFacts, PendingAuthorization, Presence, TicketFacts } from "./facts.js";
export {
  type AnnulCause,
  type EntryState,
  type LifecycleEvent,
  type RecordKind,
  TERMINAL_STATES,
  type Transition,
  transition,
} from "./lifecycle.js";
export {
  checkManualAdmission,
  MAX_OVERRIDE_NOTE,
  type ManualContext,
  type ManualVerdict,
  OverrideLockout,
  type OverrideLockoutOptions,
  overrideNoteProblem,
  type SupervisorOverride,
} from "./manual.js";
export {
  ADMIT_REASONS,
  type AdmitReason,
  ALARM_REASONS,
  type AlarmReason,
  ASSISTED_REASONS,
  type AssistedReason,
  FAILURE_REASONS,
  type FailureReason,
  FORGERY_REASONS,
  type Language,
  MANUAL_REASONS,
  type ManualReason,
  type MessageParams,
  type Outcome,
  outcomeOf,
  REFUSE_REASONS,
  type ReasonCode,
  type RefuseReason,
  type StewardMessage,
  stewardMessages,
} from "./reasons.js";
export { localParts } from "./time.js";
