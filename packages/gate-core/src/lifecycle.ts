import type { Decision } from "./decide.js";

/*
 * The life of one scan at a lane, as an explicit state machine:
 *
 *   scanned ──ADMIT──▶ authorized ──passage──▶ entered
 *      │                  │  └──window expired / fire alarm / restart──▶ annulled (ticket not consumed)
 *      │                  │                      └──late passage──▶ entered (or exited)
 *      ├──ASSISTED──▶ awaiting-steward ──confirmed(steward)──▶ authorized (manual)
 *      │                  └──declined / timed out──▶ refused
 *      ├──exit ADMIT──▶ exit-authorized ──passage──▶ exited   (window expired ▶ annulled)
 *      └──REFUSE──▶ refused
 *
 * Each transition says which record must be durable before anything else happens (the turnstile
 * is told to unlock only after `authorized` is on disk, docs/design.md §2).
 *
 * annulled → entered: the gate annulled an authorization while it could not hear the lane
 * controller (a cable out past the window, a gate restart), and the controller, heard again,
 * reports the passage it kept. The holder did walk through on that authorization, so the ticket is
 * consumed after all. Never after a fire alarm: passages then are free passages, not attributed.
 */

export type EntryState =
  | "scanned"
  | "awaiting-steward"
  | "authorized"
  | "exit-authorized"
  | "entered"
  | "exited"
  | "annulled"
  | "refused";

export type LifecycleEvent =
  | { readonly type: "decided"; readonly decision: Decision; readonly direction: "entry" | "exit" }
  | { readonly type: "steward-confirmed"; readonly steward: string }
  | { readonly type: "steward-declined"; readonly steward: string }
  | { readonly type: "steward-timeout" }
  | { readonly type: "passage" }
  | { readonly type: "window-expired" }
  | { readonly type: "fire-alarm" }
  /** A passage the lane controller reported after the gate had annulled the authorization. */
  | {
      readonly type: "late-passage";
      readonly direction: "entry" | "exit";
      readonly annulledBy: AnnulCause;
    };

/** Why an authorization was annulled: no passage in its window, a fire alarm, or a restart's recovery. */
export type AnnulCause = "window-expired" | "fire-alarm" | "recovery";

/** What must be recorded (durably) as the effect of a transition. */
export type RecordKind = "authorized" | "entered" | "exited" | "annulled" | "refused";

export type Transition =
  | {
      readonly ok: true;
      readonly state: EntryState;
      readonly record?: RecordKind;
      readonly unlock?: boolean;
      readonly manual?: boolean;
    }
  | { readonly ok: false; readonly error: string };

/** No transition leaves these (annulled is not one: a late passage may still claim it). */
export const TERMINAL_STATES: ReadonlySet<EntryState> = new Set(["entered", "exited", "refused"]);

export function transition(state: EntryState, event: LifecycleEvent): Transition {
  const invalid = (): Transition => ({ ok: false, error: `no transition from ${state} on ${event.type}` });
  switch (state) {
    case "scanned":
      if (event.type !== "decided") return invalid();
      if (event.decision.outcome === "REFUSE") return { ok: true, state: "refused", record: "refused" };
      if (event.decision.outcome === "ASSISTED") return { ok: true, state: "awaiting-steward" };
      if (event.decision.reason === "FREE_PASSAGE") return { ok: true, state: "refused" };
      return event.direction === "exit"
        ? { ok: true, state: "exit-authorized", record: "authorized", unlock: true }
        : { ok: true, state: "authorized", record: "authorized", unlock: true };
    case "awaiting-steward":
      if (event.type === "steward-confirmed")
        return { ok: true, state: "authorized", record: "authorized", unlock: true, manual: true };
      if (event.type === "steward-declined" || event.type === "steward-timeout") {
        return { ok: true, state: "refused", record: "refused" };
      }
      if (event.type === "fire-alarm") return { ok: true, state: "refused", record: "refused" };
      return invalid();
    case "authorized":
      if (event.type === "passage") return { ok: true, state: "entered", record: "entered" };
      if (event.type === "window-expired" || event.type === "fire-alarm")
        return { ok: true, state: "annulled", record: "annulled" };
      return invalid();
    case "exit-authorized":
      if (event.type === "passage") return { ok: true, state: "exited", record: "exited" };
      if (event.type === "window-expired" || event.type === "fire-alarm")
        return { ok: true, state: "annulled", record: "annulled" };
      return invalid();
    case "annulled":
      if (event.type !== "late-passage" || event.annulledBy === "fire-alarm") return invalid();
      return event.direction === "exit"
        ? { ok: true, state: "exited", record: "exited" }
        : { ok: true, state: "entered", record: "entered" };
    default:
      return invalid();
  }
}
