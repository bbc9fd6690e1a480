import type { Session, Venue } from "./model.js";

/*
 * Session times as instants. A venue file writes them either zoned ("2026-07-25T18:00:00+02:00",
 * "…Z") or local ("2026-07-25T18:00:00"), and a local time is read in the venue's `timezone`, never
 * in the time zone of the machine that reads it (a gate in UTC and one in Paris must agree).
 * Pure: Intl only, no I/O.
 */

export class VenueTimeError extends Error {
  constructor(
    /** The field at fault, e.g. `sessions[2].doorsOpen` or `timezone`. */
    readonly field: string,
    problem: string,
  ) {
    super(`${field} ${problem}`);
  }
}

const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:\d{2})?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The formatter of an IANA time zone; undefined when Intl does not know the zone. */
function zoneFormatter(timezone: string): Intl.DateTimeFormat | undefined {
  let f = formatters.get(timezone);
  if (f) return f;
  try {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
  } catch {
    return undefined;
  }
  formatters.set(timezone, f);
  return f;
}

/** Why a time zone cannot be used, or undefined when Intl knows it. */
export function timezoneProblem(timezone: unknown): string | undefined {
  if (typeof timezone !== "string" || timezone === "")
    return "is missing (an IANA time zone, e.g. Europe/Paris)";
  return zoneFormatter(timezone) ? undefined : `${JSON.stringify(timezone)} is not an IANA time zone`;
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function zoneOffsetMs(f: Intl.DateTimeFormat, ms: number): number {
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms)))
    if (part.type !== "literal") p[part.type] = Number(part.value);
  const asUtc = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return asUtc - (ms - (((ms % 1000) + 1000) % 1000));
}

export type VenueTime =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly problem: string };

/**
 * Reads one venue time: zoned as written, local in `timezone`. A local time that a clock change
 * skips (spring forward) is read with the offset before the change, as a wall clock set by hand would.
 */
export function readVenueTime(text: unknown, timezone: string): VenueTime {
  if (typeof text !== "string")
    return { ok: false, problem: "is missing (an ISO time, e.g. 2026-07-25T18:00:00)" };
  const m = TIME.exec(text);
  if (!m)
    return { ok: false, problem: `${JSON.stringify(text)} is not an ISO time (e.g. 2026-07-25T18:00:00)` };
  const n = (i: number) => Number(m[i] ?? 0);
  const [year, month, day, hour, minute, second] = [n(1), n(2), n(3), n(4), n(5), n(6)];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, Number((m[7] ?? "0").padEnd(3, "0")));
  const back = new Date(wall);
  if (
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    return { ok: false, problem: `${JSON.stringify(text)} is not a date and time of day` };
  const zone = m[8];
  if (zone === "Z") return { ok: true, ms: wall };
  if (zone) {
    const sign = zone.startsWith("-") ? -1 : 1;
    const [h, min] = zone.slice(1).split(":").map(Number) as [number, number];
    if (h > 14 || min > 59) return { ok: false, problem: `${JSON.stringify(text)} has no such UTC offset` };
    return { ok: true, ms: wall - sign * (h * 3_600_000 + min * 60_000) };
  }
  const f = zoneFormatter(timezone);
  if (!f)
    return {
      ok: false,
      problem: `${JSON.stringify(text)} has no UTC offset and the venue's timezone is not known`,
    };
  // Two passes: the offset at the first guess may differ from the one at the answer across a change.
  const first = wall - zoneOffsetMs(f, wall);
  const again = wall - zoneOffsetMs(f, first);
  return { ok: true, ms: zoneOffsetMs(f, again) === zoneOffsetMs(f, first) ? again : Math.max(first, again) };
}

export interface SessionTimes {
  readonly doorsOpenMs: number;
  readonly startMs: number;
  readonly endMs: number;
}

const SESSION_FIELDS = ["doorsOpen", "start", "end"] as const;

/** A session's times as instants, or what is wrong with them (the field named). */
export function readSessionTimes(
  session: Pick<Session, (typeof SESSION_FIELDS)[number]>,
  timezone: string,
):
  | { readonly ok: true; readonly times: SessionTimes }
  | { readonly ok: false; readonly field: string; readonly problem: string } {
  const ms: number[] = [];
  for (const field of SESSION_FIELDS) {
    const t = readVenueTime(session[field], timezone);
    if (!t.ok) return { ok: false, field, problem: t.problem };
    ms.push(t.ms);
  }
  const [doorsOpenMs, startMs, endMs] = ms as [number, number, number];
  if (doorsOpenMs > startMs) return { ok: false, field: "doorsOpen", problem: "is after start" };
  if (startMs > endMs) return { ok: false, field: "end", problem: "is before start" };
  return { ok: true, times: { doorsOpenMs, startMs, endMs } };
}

const memo = new Map<string, SessionTimes | null>();

/**
 * A session's times for the scan path: read once per session and zone. Undefined when they do not
 * read (a venue is checked when it is read and imported; this never throws all the same).
 */
export function sessionTimes(
  session: Pick<Session, (typeof SESSION_FIELDS)[number]>,
  timezone: string,
): SessionTimes | undefined {
  const key = `${timezone}|${session.doorsOpen}|${session.start}|${session.end}`;
  let times = memo.get(key);
  if (times === undefined) {
    const read = readSessionTimes(session, timezone);
    times = read.ok ? read.times : null;
    // A venue has a handful of sessions; the bound only guards against a process reading many venues.
    if (memo.size >= 1000) memo.clear();
    memo.set(key, times);
  }
  return times ?? undefined;
}

/** Checks a venue's time zone and every session's times; throws a VenueTimeError naming the field. */
export function checkVenueTimes(venue: Pick<Venue, "timezone" | "sessions">): void {
  const zone = timezoneProblem(venue.timezone);
  if (zone) throw new VenueTimeError("timezone", zone);
  if (!Array.isArray(venue.sessions)) throw new VenueTimeError("sessions", "is not a list");
  for (const [i, s] of venue.sessions.entries()) {
    const read = readSessionTimes(s, venue.timezone);
    if (!read.ok) throw new VenueTimeError(`sessions[${i}].${read.field} (session ${s.id})`, read.problem);
  }
}
