import type { LookupHit, LookupResult } from "@sesame/cache";
import { CacheError } from "@sesame/cache";
import { localParts } from "@sesame/gate-core";
import { sessionTimes } from "@sesame/venue/session-times";
import { parse, parseInteger, parseTime, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import { openGateCache } from "../gate-cache.js";
import type { Io } from "../io.js";

export const GATE_LOOKUP_USAGE =
  "sesame gate lookup --venue DIR --gate GATE [--at ISO-TIME] [--db FILE] [--limit N] [--json] QUERY" +
  "\n      (QUERY: an order reference, or part of the holder's name; exit 0 found, 1 nothing found)";

/** The printed-confirmation search of a gate, among the tickets of the sessions in progress. */
export async function gateLookup(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      venue: { type: "string" },
      gate: { type: "string" },
      at: { type: "string" },
      db: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    GATE_LOOKUP_USAGE,
  );
  const dir = requireString(values.venue, "--venue DIR", GATE_LOOKUP_USAGE);
  const gateId = requireString(values.gate, "--gate GATE", GATE_LOOKUP_USAGE);
  const query = positionals.join(" ").trim();
  if (query === "")
    throw new CliError(`give an order reference or a name to search for\n\nusage: ${GATE_LOOKUP_USAGE}`);
  const limit = parseInteger(values.limit, "--limit", 1, 200) ?? 20;
  const at = parseTime(values.at, "--at") ?? io.now();

  const cache = openGateCache(dir, gateId, values.db, (line) => io.stderr.write(`sesame: ${line}\n`));
  try {
    let result: LookupResult;
    try {
      result = cache.store.lookup(query, { at, limit });
    } catch (error) {
      if (error instanceof CacheError) throw new CliError(error.message, 2);
      throw error;
    }
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.hits.length > 0 ? 0 : 1;
    }
    const timezone = cache.venue.timezone;
    const sessions = cache.venue.sessions.filter((s) => result.sessions.includes(s.id));
    if (sessions.length === 0) {
      const next = cache.venue.sessions.find((s) => (sessionTimes(s, timezone)?.doorsOpenMs ?? 0) > at);
      io.stdout.write(
        `No session's doors are open at ${new Date(at).toISOString()}${next ? `; next: ${next.code}, doors open ${next.doorsOpen}` : ""}.\n`,
      );
      return 1;
    }
    const scope = sessions.map((s) => `${s.code} (session ${s.id})`).join(", ");
    io.stdout.write(
      `${result.by === "order" ? "Order" : "Name"} ${JSON.stringify(result.query)} in ${scope}:\n`,
    );
    if (result.hits.length === 0) {
      io.stdout.write(
        result.otherSessions > 0
          ? `  this order has ${result.otherSessions} ticket(s), none for the session in progress.\n`
          : "  no ticket found.\n",
      );
      return 1;
    }
    io.stdout.write(table(result.hits, timezone));
    if (result.more)
      io.stdout.write(`  … more tickets match: narrow the search (add a first name) or raise --limit.\n`);
    if (result.otherSessions > 0)
      io.stdout.write(`  ${result.otherSessions} more ticket(s) of this order are for another session.\n`);
    return 0;
  } finally {
    cache.close();
  }
}

function table(hits: readonly LookupHit[], timezone: string): string {
  const rows = hits.map((h) => [
    String(h.ticketId),
    h.holder,
    h.orderReference,
    h.seat || "standing",
    h.zone.code,
    h.entrance.code,
    h.kind,
    h.status,
    h.presence
      ? h.presence.state === "inside"
        ? `inside, ${localParts(h.presence.firstEntryAt, timezone).time} at ${h.presence.firstEntryGate}`
        : `left, ${localParts(h.presence.lastAt, timezone).time} at ${h.presence.lastGate}`
      : "no",
  ]);
  const header = ["ticket", "holder", "order", "seat", "zone", "entrance", "kind", "status", "entered"];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join("");
}
