import type { Grant, Lane, PassageEvent } from "@sesame/bridge";
import type { GateStore } from "@sesame/cache";
import {
  ClockWatch,
  type Decision,
  type Direction,
  decideScan,
  type EntryLogEvent,
  FORGERY_REASONS,
  type LaneMode,
  OverrideLockout,
  type OverrideLockoutOptions,
  overrideNoteProblem,
  type SupervisorOverride,
  stewardMessages,
  transition,
} from "@sesame/gate-core";
import { createScanVerifiers, type Ed25519Verifier } from "@sesame/ticket";
import { verifyOverrideCode } from "@sesame/venue";

/*
 * The gate backend's core: one scan goes decide → record (durable) → unlock → passage → record,
 * for every lane of one gate. It owns no I/O of its own: the store (SQLite), the lanes (OSDP) and
 * the clock come in from the composition root, so the same code runs in the kiosk, the venue
 * simulator and the benchmarks.
 */

export interface LaneBinding {
  readonly lane: number;
  /** Which way people walk through this lane's scanner. */
  readonly direction: Direction;
  /** The lane controller; a lane without one is steward-operated (passages confirmed by hand). */
  readonly controller?: Lane;
}

export interface GateBackendOptions {
  readonly store: GateStore;
  readonly gateId: string;
  /** The entrance this gate stands at. */
  readonly entrance: number;
  readonly lanes: readonly LaneBinding[];
  readonly now: () => number;
  /** How long an authorized holder has to walk through (docs/design.md §2: 5–8 s). */
  readonly passageWindowMs?: number;
  readonly issuerVerifier?: Ed25519Verifier;
  readonly deviceVerifier?: Ed25519Verifier;
  /** Wrong supervisor codes before overrides lock, and for how long (default 5, 5 min). */
  readonly overrideLockout?: OverrideLockoutOptions;
}

/** What a supervisor types at the kiosk to override a manual admission. */
export interface OverrideAttempt {
  readonly supervisor: string;
  readonly code: string;
  readonly note: string;
}

/** An override whose code this backend checked (only verifyOverride makes one). */
export type VerifiedOverride = Omit<SupervisorOverride, "state">;

export type OverrideProblem = "empty-note" | "unknown-supervisor" | "wrong-code" | "locked";

/** A supervisor's override refused: a note missing, no such supervisor, a wrong code, or locked. */
export class OverrideError extends Error {
  override readonly name = "OverrideError";
  constructor(
    readonly problem: OverrideProblem,
    message: string,
    /** Tries left before the lock (after a wrong code or an unknown supervisor). */
    readonly attemptsLeft?: number,
    /** Overrides are refused until then (gate clock). */
    readonly lockedUntil?: number,
  ) {
    super(message);
  }
}

export type LaneScreen =
  | "ready"
  | "admit"
  | "refuse"
  | "assisted"
  | "awaiting-passage"
  | "out-of-order"
  | "free-passage"
  | "locked";

export interface LaneView {
  readonly lane: number;
  readonly direction: Direction;
  readonly mode: LaneMode;
  readonly screen: LaneScreen;
  readonly controllerOnline: boolean | undefined;
  readonly fireAlarm: boolean;
  readonly decision?: Decision;
  readonly authorizationId?: string;
  readonly since: number;
}

export interface ScanOutcome {
  readonly lane: number;
  readonly decision: Decision;
  /** Set when the lane was unlocked (or is waiting for a steward's confirmation). */
  readonly authorizationId?: string;
  /** The unlock failed (controller offline, fire alarm…): the authorization was annulled. */
  readonly unlockError?: string;
}

export type GateAlert =
  | { readonly kind: "forced-passage" | "tailgate"; readonly lane: number; readonly at: number }
  | {
      readonly kind: "controller-offline";
      readonly lane: number;
      readonly at: number;
      readonly detail: string;
    }
  | { readonly kind: "forgery"; readonly lane: number; readonly at: number; readonly detail: string }
  /** A wrong supervisor code (or an unknown supervisor) typed for a manual admission. */
  | {
      readonly kind: "override-refused";
      readonly lane: number;
      readonly at: number;
      readonly steward: string;
      readonly detail: string;
    }
  | { readonly kind: "clock-skew"; readonly at: number; readonly detail: string };

/** A steward's request the lane cannot take as it stands (nothing waits there, no such lane). */
export class LaneActionError extends Error {
  override readonly name = "LaneActionError";
}

export interface GateBackendEvents {
  /** Every change a kiosk screen or the sync layer should know of. */
  readonly onLane?: (view: LaneView) => void;
  readonly onRecorded?: (event: EntryLogEvent) => void;
  readonly onAlert?: (alert: GateAlert) => void;
  /** Something a tech should read in the log (not a steward's alert). */
  readonly onWarning?: (message: string) => void;
}

interface LaneState {
  readonly binding: LaneBinding;
  mode: LaneMode;
  screen: LaneScreen;
  decision?: Decision;
  since: number;
  /** A scan that waits for the steward (printed confirmation, ID check, accessibility). */
  assisted?: Decision;
  /** Bridge grant id → authorization id, to attribute passages and no-shows. */
  readonly grants: Map<number, string>;
  /** Authorizations of a lane without controller, oldest first. */
  readonly manualPassages: string[];
}

export class GateBackend {
  private readonly lanes = new Map<number, LaneState>();
  private readonly clockWatch = new ClockWatch();
  private readonly issuerVerifier: Ed25519Verifier;
  private readonly deviceVerifier: Ed25519Verifier;
  private readonly windowMs: number;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly overrideLockout: OverrideLockout;
  /** Overrides this backend checked: admitManually takes no other. */
  private readonly verifiedOverrides = new WeakSet<VerifiedOverride>();
  /** Codes are checked one at a time: requests sent together cannot outrun the lockout. */
  private overrideChecks: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly options: GateBackendOptions,
    private readonly events: GateBackendEvents = {},
  ) {
    const scan = createScanVerifiers();
    this.issuerVerifier = options.issuerVerifier ?? scan.issuerVerifier;
    this.deviceVerifier = options.deviceVerifier ?? scan.deviceVerifier;
    this.windowMs = options.passageWindowMs ?? 6_000;
    this.overrideLockout = new OverrideLockout(options.overrideLockout);
    for (const binding of options.lanes) {
      const state: LaneState = {
        binding,
        mode: "normal",
        screen: "ready",
        since: options.now(),
        grants: new Map(),
        manualPassages: [],
      };
      this.lanes.set(binding.lane, state);
      if (binding.controller) this.wire(state, binding.controller);
    }
    // A crash may have left authorizations open: annulled, the tickets are not consumed
    // (docs/design.md §2); their controllers relocked on their own when the OUT timer ran out. But a
    // holder may have walked through meanwhile, and the controller kept that passage for us: each
    // lane is told what was annulled on it, so that such a passage is attributed late, not taken
    // for a forced one.
    const now = options.now();
    for (const r of options.store.recover(now)) {
      events.onRecorded?.(r.event);
      const { authorizationId, lane, direction } = r.event;
      const controller = this.lanes.get(lane)?.binding.controller;
      const opened = authorizationId ? options.store.authorization(authorizationId) : undefined;
      if (!controller || !authorizationId || !opened) continue;
      controller.addLateClaim(direction, authorizationId, now - (opened.at + this.windowMs));
    }
  }

  get clockSuspect(): boolean {
    return this.clockWatch.suspect;
  }

  laneViews(): LaneView[] {
    return [...this.lanes.values()].map((s) => this.view(s));
  }

  private view(s: LaneState): LaneView {
    const c = s.binding.controller;
    const authorizationId = [...s.grants.values()].at(-1) ?? s.manualPassages.at(-1);
    return {
      lane: s.binding.lane,
      direction: s.binding.direction,
      mode: s.mode,
      screen: s.screen,
      controllerOnline: c?.online,
      fireAlarm: c?.fireAlarm ?? false,
      ...(s.decision ? { decision: s.decision } : {}),
      ...(authorizationId ? { authorizationId } : {}),
      since: s.since,
    };
  }

  private show(s: LaneState, screen: LaneScreen, decision?: Decision): void {
    s.screen = screen;
    s.since = this.options.now();
    if (decision) s.decision = decision;
    this.events.onLane?.(this.view(s));
  }

  private laneState(lane: number): LaneState {
    const s = this.lanes.get(lane);
    if (!s) throw new LaneActionError(`gate ${this.options.gateId} has no lane ${lane}`);
    return s;
  }

  /**
   * One scanned text at one lane: decide, record, unlock. Resolves once the turnstile was told.
   * Never rejects for the scan itself (only for a lane this gate does not have): a scan that fails
   * unexpectedly is logged, recorded as SCAN_FAILED and refused on the lane's screen.
   */
  async scan(lane: number, text: string): Promise<ScanOutcome> {
    const s = this.laneState(lane);
    const at = this.options.now();
    const seen: { decision?: Decision } = {};
    try {
      return await this.handleScan(s, text, at, seen);
    } catch (error) {
      return this.scanFailed(s, at, error, seen.decision);
    }
  }

  private async handleScan(
    s: LaneState,
    text: string,
    at: number,
    seen: { decision?: Decision },
  ): Promise<ScanOutcome> {
    const lane = s.binding.lane;
    const direction = s.binding.direction;
    const decision = decideScan(
      text,
      {
        gateId: this.options.gateId,
        lane,
        entrance: this.options.entrance,
        direction,
        nowMs: at,
        mode: s.binding.controller?.fireAlarm ? "free-passage" : s.mode,
        clockSuspect: this.clockWatch.suspect,
      },
      this.options.store.facts(),
      { issuerVerifier: this.issuerVerifier, deviceVerifier: this.deviceVerifier },
    );
    seen.decision = decision;
    const wasSuspect = this.clockWatch.suspect;
    this.clockWatch.observe(decision);
    if (!wasSuspect && this.clockWatch.suspect) {
      this.events.onAlert?.({
        kind: "clock-skew",
        at,
        detail: `recent codes are ${this.clockWatch.medianLagSeconds ?? "?"} s off this gate's clock`,
      });
    }
    const step = transition("scanned", { type: "decided", decision, direction });
    if (!step.ok) throw new Error(step.error);
    const place = { lane, direction, at };
    if (step.state === "awaiting-steward") {
      s.assisted = decision;
      this.show(s, "assisted", decision);
      return { lane, decision };
    }
    if (step.record === "refused") {
      this.emit(this.options.store.recordRefusal(decision, place).event);
      if (FORGERY_REASONS.has(decision.reason)) {
        this.events.onAlert?.({ kind: "forgery", lane, at, detail: decision.reason });
      }
      this.show(s, "refuse", decision);
      await this.refusalLight(s);
      return { lane, decision };
    }
    if (step.record !== "authorized") {
      this.show(s, s.mode === "locked" ? "locked" : "free-passage", decision);
      return { lane, decision };
    }
    return this.authorizeAndUnlock(s, decision, place);
  }

  /** The scan failed (the store, a bug): one log line, a SCAN_FAILED refusal recorded if it can be, shown. */
  private async scanFailed(
    s: LaneState,
    at: number,
    error: unknown,
    decided: Decision | undefined,
  ): Promise<ScanOutcome> {
    const lane = s.binding.lane;
    const oneLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ");
    const failed: Decision = {
      outcome: "REFUSE",
      reason: "SCAN_FAILED",
      messages: stewardMessages("SCAN_FAILED"),
      detail: oneLine(error).slice(0, 200),
      ...(decided?.ticketId !== undefined ? { ticketId: decided.ticketId } : {}),
      ...(decided?.generation !== undefined ? { generation: decided.generation } : {}),
      ...(decided?.session !== undefined ? { session: decided.session } : {}),
    };
    const about = decided
      ? ` (decision ${decided.reason}${decided.ticketId !== undefined ? `, ticket ${decided.ticketId}` : ""})`
      : "";
    this.events.onWarning?.(`lane ${lane}: scan failed${about}: ${oneLine(error)}`);
    try {
      this.emit(this.options.store.recordRefusal(failed, { lane, direction: s.binding.direction, at }).event);
    } catch (recording) {
      this.events.onWarning?.(
        `lane ${lane}: the failed scan could not be recorded either: ${oneLine(recording)}`,
      );
    }
    this.show(s, "refuse", failed);
    await this.refusalLight(s);
    return { lane, decision: failed };
  }

  /**
   * The refusal is recorded and on the steward's screen; a red light that does not come on
   * (controller offline, bus busy) changes nothing for the holder, but a tech should know.
   */
  private async refusalLight(s: LaneState): Promise<void> {
    await s.binding.controller?.refuse().catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      this.events.onWarning?.(
        `lane ${s.binding.lane}: the refusal light and tone did not reach the controller: ${message}`,
      );
    });
  }

  private async authorizeAndUnlock(
    s: LaneState,
    decision: Decision,
    place: { lane: number; direction: Direction; at: number },
    steward?: string,
  ): Promise<ScanOutcome> {
    // Durable before the turnstile hears anything.
    const recorded = this.options.store.authorize(decision, place, steward ? { steward } : {});
    this.emit(recorded.event);
    return this.unlockFor(s, decision, recorded.authorization.authorizationId, place.direction);
  }

  private async unlockFor(
    s: LaneState,
    decision: Decision,
    authorizationId: string,
    direction: Direction,
  ): Promise<ScanOutcome> {
    const lane = s.binding.lane;
    const controller = s.binding.controller;
    if (!controller) {
      s.manualPassages.push(authorizationId);
      this.show(s, "awaiting-passage", decision);
      return { lane, decision, authorizationId };
    }
    this.show(s, "admit", decision);
    try {
      const grant: Grant = await controller.unlock(direction, 1, this.windowMs, {
        reference: authorizationId,
      });
      s.grants.set(grant.id, authorizationId);
      this.show(s, "awaiting-passage");
      return { lane, decision, authorizationId };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const annulled = this.options.store.annul(authorizationId, this.options.now(), "window-expired");
      if (annulled) this.emit(annulled.event);
      this.show(s, "out-of-order");
      return { lane, decision, authorizationId, unlockError: message };
    }
  }

  /** The steward checked the ID (or helped the holder): admit the scan waiting at this lane. */
  async confirmAssisted(lane: number, steward: string): Promise<ScanOutcome> {
    const s = this.laneState(lane);
    const decision = s.assisted;
    if (!decision) throw new LaneActionError(`nothing waits for a steward at lane ${lane}`);
    s.assisted = undefined;
    return this.authorizeAndUnlock(
      s,
      decision,
      { lane, direction: s.binding.direction, at: this.options.now() },
      steward,
    );
  }

  declineAssisted(lane: number, steward: string): void {
    const s = this.laneState(lane);
    const decision = s.assisted;
    if (!decision) return;
    s.assisted = undefined;
    this.emit(
      this.options.store.recordRefusal(
        decision,
        { lane, direction: s.binding.direction, at: this.options.now() },
        { steward },
      ).event,
    );
    this.show(s, "ready");
  }

  /**
   * Checks a supervisor's override offline (docs/design.md §1, "Manual admission"): a note, a
   * supervisor of the venue's signed list, and their code against its scrypt hash. A wrong code or
   * an unknown supervisor is recorded (OVERRIDE_REFUSED, with the steward and the ticket it was
   * for), alerted, and counts towards the lockout; once locked, every code is refused until it ends.
   */
  verifyOverride(
    lane: number,
    steward: string,
    attempt: OverrideAttempt,
    subject: { readonly ticketId: number; readonly session: number },
  ): Promise<VerifiedOverride> {
    const check = this.overrideChecks.then(() => this.checkOverride(lane, steward, attempt, subject));
    this.overrideChecks = check.catch(() => undefined);
    return check;
  }

  private async checkOverride(
    lane: number,
    steward: string,
    attempt: OverrideAttempt,
    subject: { readonly ticketId: number; readonly session: number },
  ): Promise<VerifiedOverride> {
    this.laneState(lane);
    const noteProblem = overrideNoteProblem(attempt.note);
    if (noteProblem) throw new OverrideError("empty-note", noteProblem);
    const lockedUntil = this.overrideLockout.lockedAt(this.options.now());
    if (lockedUntil !== undefined)
      throw new OverrideError(
        "locked",
        "too many wrong supervisor codes: overrides are locked at this gate for a while",
        0,
        lockedUntil,
      );
    const supervisor = this.options.store.venue.supervisors.find((s) => s.id === attempt.supervisor);
    const right =
      supervisor !== undefined && (await verifyOverrideCode(attempt.code, supervisor.overrideCode));
    const at = this.options.now();
    if (!right) {
      const attemptsLeft = this.overrideLockout.failed(at);
      // The id as typed is not written down unless it is a listed one: it may be anything.
      const detail = supervisor
        ? `wrong override code for supervisor ${supervisor.id}`
        : "override for a supervisor this venue does not list";
      this.emit(this.options.store.recordOverrideRefused({ ...subject, lane, at, steward, detail }).event);
      this.events.onAlert?.({ kind: "override-refused", lane, at, steward, detail });
      const locked = attemptsLeft === 0 ? this.overrideLockout.lockedAt(at) : undefined;
      throw new OverrideError(
        supervisor ? "wrong-code" : "unknown-supervisor",
        `${supervisor ? `wrong code for supervisor ${supervisor.id}` : `no supervisor ${JSON.stringify(attempt.supervisor.slice(0, 32))} at this venue`}${locked ? ": overrides are locked at this gate for a while" : ""}`,
        attemptsLeft,
        locked,
      );
    }
    this.overrideLockout.succeeded();
    const verified: VerifiedOverride = { supervisor: supervisor.id, note: attempt.note.trim() };
    this.verifiedOverrides.add(verified);
    return verified;
  }

  /**
   * Printed-confirmation fallback: the steward found the ticket by order reference or name,
   * checked an ID, and admits it by hand, under the manual admission rules (the cache refuses what
   * they do not allow, with a ManualAdmissionError). Recorded as manual with the steward's id, and
   * with the supervisor's override when the rules need one (from verifyOverride).
   */
  async admitManually(
    lane: number,
    ticketId: number,
    session: number,
    steward: string,
    override?: VerifiedOverride,
  ): Promise<ScanOutcome> {
    const s = this.laneState(lane);
    if (override && !this.verifiedOverrides.has(override))
      throw new LaneActionError(
        "a supervisor's override must be checked by this gate first (verifyOverride)",
      );
    const at = this.options.now();
    const recorded = this.options.store.admitManually({
      ticketId,
      session,
      lane,
      at,
      steward,
      entrance: this.options.entrance,
      ...(override ? { override } : {}),
    });
    this.emit(recorded.event);
    // What the steward sees on the ADMIT screen: the same holder, seat and zone as a scan shows.
    const ticket = this.options.store.facts().ticket(ticketId);
    const decision: Decision = {
      outcome: "ADMIT",
      reason: recorded.event.reason,
      messages: stewardMessages(recorded.event.reason),
      ticketId,
      session,
      ...(ticket
        ? {
            generation: ticket.generation,
            holder: ticket.holder,
            seat: ticket.seat,
            zone: ticket.zone,
            categories: ticket.categories,
            kind: ticket.kind,
          }
        : {}),
    };
    return this.unlockFor(s, decision, recorded.authorization.authorizationId, s.binding.direction);
  }

  /** A passage at a lane without controller, confirmed by the steward. */
  confirmManualPassage(lane: number): void {
    const s = this.laneState(lane);
    const id = s.manualPassages.shift();
    if (!id) throw new LaneActionError(`no authorization waits for a passage at lane ${lane}`);
    const passage = this.options.store.confirmPassage(id, this.options.now());
    if (passage.event) this.emit(passage.event);
    this.show(s, "ready");
  }

  /**
   * normal, locked (scans refused, nothing unlocks) or free-passage (the turnstile is held open by
   * its controller; passages are counted, not attributed). A steward's or a supervisor's decision.
   */
  async setMode(lane: number, mode: LaneMode): Promise<void> {
    const s = this.laneState(lane);
    const previous = s.mode;
    s.mode = mode;
    const controller = s.binding.controller;
    if (controller && (mode === "free-passage") !== (previous === "free-passage")) {
      try {
        await controller.setFreePassage(s.binding.direction, mode === "free-passage");
      } catch (error) {
        // The hold is re-asserted when the controller comes back; the steward sees it is offline.
        this.events.onAlert?.({
          kind: "controller-offline",
          lane,
          at: this.options.now(),
          detail: error instanceof Error ? error.message : String(error),
        });
      }
    }
    this.show(s, mode === "normal" ? "ready" : mode === "locked" ? "locked" : "free-passage");
  }

  private modeScreen(mode: LaneMode): LaneScreen {
    return mode === "normal" ? "ready" : mode === "locked" ? "locked" : "free-passage";
  }

  private emit(event: EntryLogEvent): void {
    this.events.onRecorded?.(event);
  }

  private wire(s: LaneState, controller: Lane): void {
    const lane = s.binding.lane;
    const onPassage = (p: PassageEvent) => {
      const at = this.options.now();
      if (p.attribution.kind === "authorized") {
        const id = s.grants.get(p.attribution.grantId);
        if (!id) return;
        if (p.attribution.grantComplete) s.grants.delete(p.attribution.grantId);
        const passage = this.options.store.confirmPassage(id, at);
        if (passage.event) this.emit(passage.event);
        this.show(s, "ready");
      } else if (p.attribution.kind === "late") {
        this.recordLatePassage(lane, p.attribution.reference, p.direction, at);
      } else if (p.attribution.kind === "fire-alarm" || p.attribution.kind === "free-passage") {
        this.emit(this.options.store.recordFreePassage(lane, at, p.direction).event);
      } else {
        this.recordUnattributed(lane, p.attribution.kind === "tailgate", p.direction, at);
      }
    };
    const onGrantClosed = (grant: Grant, _unused: number, reason: "expired" | "fire-alarm") => {
      const id = s.grants.get(grant.id);
      if (!id) return;
      s.grants.delete(grant.id);
      const annulled = this.options.store.annul(
        id,
        this.options.now(),
        reason === "fire-alarm" ? "fire-alarm" : "window-expired",
      );
      if (annulled) this.emit(annulled.event);
      if (s.screen === "awaiting-passage") this.show(s, "ready");
    };
    const onFire = (active: boolean) => this.show(s, active ? "free-passage" : "ready");
    const onOffline = (reason: string) => {
      this.events.onAlert?.({ kind: "controller-offline", lane, at: this.options.now(), detail: reason });
      this.show(s, "out-of-order");
    };
    // A short blip must not wipe an ADMIT or an ID check in progress: only out-of-order is left.
    const onOnline = () => {
      if (s.screen === "out-of-order") this.show(s, s.mode === "normal" ? "ready" : this.modeScreen(s.mode));
    };
    controller.on("passage", onPassage);
    controller.on("grant-closed", onGrantClosed);
    controller.on("fire-alarm", onFire);
    controller.on("controller-offline", onOffline);
    controller.on("controller-online", onOnline);
    this.unsubscribe.push(() => {
      controller.off("passage", onPassage);
      controller.off("grant-closed", onGrantClosed);
      controller.off("fire-alarm", onFire);
      controller.off("controller-offline", onOffline);
      controller.off("controller-online", onOnline);
    });
  }

  /** A rotation no authorization covers: journaled as an alarm, and the stewards alerted. */
  private recordUnattributed(lane: number, tailgate: boolean, direction: Direction, at: number): void {
    this.emit(
      this.options.store.recordAlarm(lane, at, tailgate ? "TAILGATE" : "FORCED_PASSAGE", direction).event,
    );
    this.events.onAlert?.({ kind: tailgate ? "tailgate" : "forced-passage", lane, at });
  }

  /**
   * The controller, heard again, reported a passage on an authorization annulled while the gate
   * could not hear it: the holder's entry, late (no alarm). Should the journal refuse it, the
   * rotation is still recorded, as an unattributed one.
   */
  private recordLatePassage(
    lane: number,
    reference: string | undefined,
    direction: Direction,
    at: number,
  ): void {
    let problem = "the late passage names no authorization";
    if (reference !== undefined) {
      try {
        const passage = this.options.store.confirmLatePassage(reference, at);
        if (passage.event) {
          this.emit(passage.event);
          return;
        }
        problem = `authorization ${reference} already has its passage`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
    }
    this.events.onWarning?.(`lane ${lane}: a late passage could not be attributed: ${problem}`);
    this.recordUnattributed(lane, false, direction, at);
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }
}
