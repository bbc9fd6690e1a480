import { join } from "node:path";
import { GateStore, ManualAdmissionError } from "@sesame/cache";
import type { EntryLogEvent } from "@sesame/gate-core";
import { makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GateAlert, GateBackend, LaneActionError, OverrideError } from "../src/gate-backend.js";

const HOUR = 3_600_000;
const DOORS = Date.UTC(2026, 6, 26, 17, 0, 0);

describe("gate backend: manual admissions under the rules, supervisor overrides checked offline", () => {
  const dir = makeTempDir();
  const signer = createNodeSigner();
  const demo = generateDemoVenue({
    spectators: 400,
    doorsOpenMs: DOORS,
    entrances: 2,
    lanes: 4,
    random: seededRandom("manual-admission"),
    signer,
  });
  writeVenueDirectory(join(dir.path, "venue"), demo, signer);
  const gate = demo.venue.gates.find((g) => g.entrance === 1);
  if (!gate) throw new Error("demo venue without a gate at entrance 1");
  const codes = demo.secrets.supervisorCodes ?? {};
  const rightCode = codes["SUP-01"] ?? "";
  const wrongCode = rightCode === "0000000000" ? "1111111111" : "0000000000";
  const valid = (kind: "printed" | "mobile", entrance: number) =>
    demo.bundle.tickets.filter(
      (t) => t.status === "valid" && t.kind === kind && t.entrance === entrance && t.sessions.includes(1),
    );
  let clock = DOORS + HOUR;
  let store: GateStore;
  let recorded: EntryLogEvent[];
  let alerts: GateAlert[];
  const backendWith = (lockout?: { maxFailures: number; lockMs: number }) => {
    recorded = [];
    alerts = [];
    return new GateBackend(
      {
        store,
        gateId: gate.id,
        entrance: gate.entrance,
        lanes: [{ lane: 1, direction: "entry" }],
        now: () => clock,
        ...(lockout ? { overrideLockout: lockout } : {}),
      },
      { onRecorded: (e) => recorded.push(e), onAlert: (a) => alerts.push(a) },
    );
  };

  beforeAll(() => {
    store = GateStore.open(join(dir.path, "gate.db"), {
      rootPublicKey: Buffer.from(demo.venue.rootPublicKey, "hex"),
      gateId: gate.id,
    });
    store.importBundle(join(dir.path, "venue"));
  });
  afterAll(() => {
    store?.close();
    dir.remove();
  });

  it("a steward alone admits this entrance's printed ticket; a phone ticket or another entrance's needs a supervisor", async () => {
    const backend = backendWith();
    const [printed] = valid("printed", 1);
    const [phone] = valid("mobile", 1);
    if (!printed || !phone) throw new Error("demo lacks tickets");
    const ok = await backend.admitManually(1, printed.id, 1, "S-001");
    expect(ok.decision.reason).toBe("PRINTED_CONFIRMATION");
    backend.confirmManualPassage(1);
    const refusal = await backend.admitManually(1, phone.id, 1, "S-001").catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ManualAdmissionError);
    expect(refusal).toMatchObject({ reason: "MOBILE_TICKET", needsSupervisor: true });
    expect(recorded.map((e) => e.reason)).toEqual(["PRINTED_CONFIRMATION", "PRINTED_CONFIRMATION"]);
    backend.close();
  });

  it("admits another entrance's ticket on a supervisor's checked code, recorded with both identities and the ticket's state", async () => {
    const backend = backendWith();
    const [elsewhere] = valid("printed", 2);
    if (!elsewhere) throw new Error("demo lacks tickets");
    const subject = { ticketId: elsewhere.id, session: 1 };
    const override = await backend.verifyOverride(
      1,
      "S-001",
      { supervisor: "SUP-01", code: rightCode, note: "  sent to the wrong gate by the shuttle  " },
      subject,
    );
    const outcome = await backend.admitManually(1, elsewhere.id, 1, "S-001", override);
    expect(outcome.decision.reason).toBe("SUPERVISOR_OVERRIDE");
    backend.confirmManualPassage(1);
    const entered = recorded.find((e) => e.kind === "entered");
    expect(entered).toMatchObject({
      reason: "SUPERVISOR_OVERRIDE",
      manual: true,
      steward: "S-001",
      override: {
        supervisor: "SUP-01",
        note: "sent to the wrong gate by the shuttle",
        state: "WRONG_ENTRANCE",
      },
    });
    expect(alerts).toEqual([]);
    backend.close();
  });

  it("takes no override it did not check itself", async () => {
    const backend = backendWith();
    const [elsewhere] = valid("mobile", 2);
    if (!elsewhere) throw new Error("demo lacks tickets");
    await expect(
      backend.admitManually(1, elsewhere.id, 1, "S-001", { supervisor: "SUP-01", note: "trust me" }),
    ).rejects.toBeInstanceOf(LaneActionError);
    expect(recorded).toEqual([]);
    backend.close();
  });

  it("refuses an empty note, an unknown supervisor and a wrong code; the last two are recorded and alerted", async () => {
    const backend = backendWith();
    const [phone] = valid("mobile", 1);
    if (!phone) throw new Error("demo lacks tickets");
    const subject = { ticketId: phone.id, session: 1 };
    const attempt = (supervisor: string, code: string, note: string) =>
      backend.verifyOverride(1, "S-001", { supervisor, code, note }, subject).catch((e: unknown) => e);
    expect(await attempt("SUP-01", rightCode, "  ")).toMatchObject({ problem: "empty-note" });
    expect(recorded).toEqual([]);
    expect(await attempt("SUP-99", rightCode, "battery dead")).toMatchObject({
      problem: "unknown-supervisor",
      attemptsLeft: 4,
    });
    const wrong = await attempt("SUP-01", wrongCode, "battery dead");
    expect(wrong).toBeInstanceOf(OverrideError);
    expect(wrong).toMatchObject({ problem: "wrong-code", attemptsLeft: 3 });
    expect(recorded.map((e) => [e.kind, e.reason, e.steward, e.ticketId])).toEqual([
      ["refused", "OVERRIDE_REFUSED", "S-001", phone.id],
      ["refused", "OVERRIDE_REFUSED", "S-001", phone.id],
    ]);
    expect(alerts.map((a) => a.kind)).toEqual(["override-refused", "override-refused"]);
    expect(alerts[1]).toMatchObject({
      steward: "S-001",
      detail: "wrong override code for supervisor SUP-01",
    });
    backend.close();
  });

  it("locks overrides after repeated wrong codes, even the right one, until the lock ends", async () => {
    const backend = backendWith({ maxFailures: 3, lockMs: 5 * 60_000 });
    const [phone] = valid("mobile", 1);
    if (!phone) throw new Error("demo lacks tickets");
    const subject = { ticketId: phone.id, session: 1 };
    const attempt = (code: string) =>
      backend
        .verifyOverride(1, "S-002", { supervisor: "SUP-01", code, note: "phone lost" }, subject)
        .catch((e: unknown) => e);
    await attempt(wrongCode);
    await attempt(wrongCode);
    expect(await attempt(wrongCode)).toMatchObject({ problem: "wrong-code", attemptsLeft: 0 });
    expect(await attempt(rightCode)).toMatchObject({ problem: "locked", lockedUntil: clock + 5 * 60_000 });
    clock += 5 * 60_000;
    const override = await attempt(rightCode);
    expect(override).toEqual({ supervisor: "SUP-01", note: "phone lost" });
    backend.close();
  });

  it("checks codes one at a time: wrong codes sent together cannot outrun the lockout", async () => {
    const backend = backendWith({ maxFailures: 3, lockMs: 5 * 60_000 });
    const [phone] = valid("mobile", 1);
    if (!phone) throw new Error("demo lacks tickets");
    const subject = { ticketId: phone.id, session: 1 };
    const answers = await Promise.all(
      [wrongCode, wrongCode, wrongCode, wrongCode, rightCode].map((code) =>
        backend
          .verifyOverride(1, "S-003", { supervisor: "SUP-01", code, note: "burst" }, subject)
          .catch((e: unknown) => (e as OverrideError).problem),
      ),
    );
    expect(answers).toEqual(["wrong-code", "wrong-code", "wrong-code", "locked", "locked"]);
    expect(recorded.filter((e) => e.reason === "OVERRIDE_REFUSED")).toHaveLength(3);
    clock += 5 * 60_000;
    backend.close();
  });
});
