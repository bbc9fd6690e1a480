// The UI's model is the backend's state object: one definition, imported as types only (erased from the bundle).

export type { LaneView, ScanOutcome } from "@sesame/gate";
export type { Decision, LaneMode, Language } from "@sesame/gate-core";
export type { ScannerLayoutName } from "@sesame/scanner/browser";
export type {
  KioskDiagnostics,
  KioskLookupResult,
  KioskNotice,
  KioskState,
  ManualAdmissionResult,
  ScannerDiagnostics,
  SyncDiagnostics,
} from "../../src/backend/http.js";
