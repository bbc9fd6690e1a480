import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BundleFormatError, decodeGateBundle, encodeGateBundle } from "./bundle.js";
import { demoLayout } from "./demo.js";
import { readVenue, VenueFileError } from "./files.js";
import type { GateBundle, Session } from "./model.js";
import { checkVenueTimes, readVenueTime, sessionTimes, VenueTimeError } from "./session-times.js";

const temp = mkdtempSync(join(tmpdir(), "sesame-session-times-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const layout = demoLayout({ doorsOpenMs: Date.UTC(2026, 6, 25, 16), entrances: 1, lanes: 2, spectators: 10 });
const local: Session = {
  id: 1,
  code: "S1",
  name: "Session 1",
  doorsOpen: "2026-07-25T18:00:00",
  start: "2026-07-25T19:30:00",
  end: "2026-07-25T22:00:00",
  reentry: "none",
};
const ms = (text: string, timezone: string) => {
  const t = readVenueTime(text, timezone);
  if (!t.ok) throw new Error(t.problem);
  return t.ms;
};

describe("issue 16, case 6: session times are read in the venue's time zone, and checked", () => {
  it("a local time is the venue's wall clock, in summer and winter, wherever the reading machine is", () => {
    expect(ms("2026-07-25T18:00:00", "Europe/Paris")).toBe(Date.UTC(2026, 6, 25, 16));
    expect(ms("2026-01-25T18:00", "Europe/Paris")).toBe(Date.UTC(2026, 0, 25, 17));
    expect(ms("2026-07-25T18:00:00", "America/New_York")).toBe(Date.UTC(2026, 6, 25, 22));
    // A zoned time is what it says, whatever the venue's zone.
    expect(ms("2026-07-25T18:00:00+02:00", "Asia/Tokyo")).toBe(Date.UTC(2026, 6, 25, 16));
    expect(ms("2026-07-25T16:00:00.000Z", "Asia/Tokyo")).toBe(Date.UTC(2026, 6, 25, 16));
    // 02:30 does not exist in Paris on 29 March 2026: read with the winter offset (03:30 summer time).
    expect(ms("2026-03-29T02:30:00", "Europe/Paris")).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(sessionTimes(local, "Europe/Paris")).toEqual({
      doorsOpenMs: Date.UTC(2026, 6, 25, 16),
      startMs: Date.UTC(2026, 6, 25, 17, 30),
      endMs: Date.UTC(2026, 6, 25, 20),
    });
  });

  it("a time that does not read, a bad zone or times out of order: an error naming the field", () => {
    const check = (venue: Parameters<typeof checkVenueTimes>[0]) => {
      try {
        checkVenueTimes(venue);
      } catch (error) {
        expect(error).toBeInstanceOf(VenueTimeError);
        return (error as Error).message;
      }
      return "accepted";
    };
    expect(check({ timezone: "Europe/Paris", sessions: [local] })).toBe("accepted");
    expect(
      check({ timezone: "Europe/Paris", sessions: [local, { ...local, id: 2, doorsOpen: "soon" }] }),
    ).toBe('sessions[1].doorsOpen (session 2) "soon" is not an ISO time (e.g. 2026-07-25T18:00:00)');
    expect(check({ timezone: "Europe/Paris", sessions: [{ ...local, end: "2026-02-30T22:00:00" }] })).toBe(
      'sessions[0].end (session 1) "2026-02-30T22:00:00" is not a date and time of day',
    );
    expect(check({ timezone: "Europe/Paris", sessions: [{ ...local, start: "2026-07-25T17:00:00" }] })).toBe(
      "sessions[0].doorsOpen (session 1) is after start",
    );
    expect(check({ timezone: "Paris", sessions: [local] })).toBe('timezone "Paris" is not an IANA time zone');
    expect(sessionTimes({ ...local, doorsOpen: "soon" }, "Europe/Paris")).toBeUndefined();
  });

  it("venue.json is checked when it is read", () => {
    const dir = join(temp, "venue");
    mkdirSync(dir, { recursive: true });
    const write = (sessions: readonly Session[]) =>
      writeFileSync(join(dir, "venue.json"), JSON.stringify({ ...layout, sessions }));
    write([local]);
    expect(readVenue(dir).sessions[0]?.doorsOpen).toBe(local.doorsOpen);
    write([{ ...local, doorsOpen: "25/07/2026 18:00" }]);
    expect(() => readVenue(dir)).toThrow(VenueFileError);
    expect(() => readVenue(dir)).toThrow(
      /^venue\.json: sessions\[0\]\.doorsOpen \(session 1\) "25\/07\/2026 18:00"/,
    );
  });

  it("a gate bundle is checked when it is imported", () => {
    const bundle: GateBundle = {
      format: "sesame-gate-bundle/2",
      generatedAt: new Date(0).toISOString(),
      feedSequence: 0,
      venue: { ...layout, rootPublicKey: "00".repeat(32), sessions: [local] },
      trustList: {} as GateBundle["trustList"],
      tickets: [],
      revocations: [],
    };
    expect(decodeGateBundle(encodeGateBundle(bundle)).venue.sessions).toHaveLength(1);
    const bad = { ...bundle, venue: { ...bundle.venue, sessions: [{ ...local, end: "tonight" }] } };
    expect(() => decodeGateBundle(encodeGateBundle(bad))).toThrow(BundleFormatError);
    expect(() => decodeGateBundle(encodeGateBundle(bad))).toThrow(/venue: sessions\[0\]\.end \(session 1\)/);
  });
});
