/** Local date and time of day in the venue's time zone (pure: Intl, no I/O). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    // A venue's zone is checked when it is read and imported; one Intl does not know all the same
    // (a cache filled by an older release) shows UTC rather than make every scan throw.
    const known = (() => {
      try {
        return new Intl.DateTimeFormat("en-GB", { timeZone: timezone }).resolvedOptions().timeZone;
      } catch {
        return "UTC";
      }
    })();
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: known,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timezone, f);
  }
  return f;
}

export function localParts(ms: number, timezone: string): { day: string; date: string; time: string } {
  if (!Number.isFinite(ms)) return { day: "?", date: "?", time: "?" };
  const parts = Object.fromEntries(
    formatter(timezone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return {
    day: `${parts.year}-${parts.month}-${parts.day}`,
    date: `${parts.day}/${parts.month}`,
    time: `${parts.hour}:${parts.minute}`,
  };
}
