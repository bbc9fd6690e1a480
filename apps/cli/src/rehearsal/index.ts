export { type CrowdMix, type PersonSpec, PROFILES, type Profile, REHEARSAL_MIX } from "./population.js";
export { REPORT_FORMAT, type RehearsalReport, writeReport } from "./report.js";
export { renderReportHtml } from "./report-html.js";
export { VirtualClock } from "./virtual-clock.js";
export {
  MODELED_VIRTUAL,
  REAL_VIRTUAL,
  runVirtualRehearsal,
  type VirtualRehearsalOptions,
} from "./virtual-run.js";
