import type { ServerResponse } from "node:http";
import type { Session, Venue } from "@sesame/venue";
import type { ServerStore, StoredEvent } from "../store.js";

/*
 * The entry log of a session as CSV (RFC 4180: comma, CRLF, quotes doubled; UTF-8), streamed page
 * by page: a stadium's log is 100,000+ rows, and each page is a short synchronous read, so ingest
 * goes on between pages and a slow download never holds the database or the memory.
 */

export const ENTRY_CSV_COLUMNS = [
  "event_id",
  "gate",
  "gate_seq",
  "lane",
  "kind",
  "direction",
  "reason",
  "ticket_id",
  "generation",
  "session",
  "entrance",
  "zone",
  "manual",
  "steward",
  "at",
  "received_at",
  "detail",
] as const;

const PAGE = 2000;

/**
 * One CSV field. Text a gate or a person typed (steward, detail) that starts like a formula gets a
 * leading apostrophe, so that a spreadsheet shows it instead of running it (CSV injection).
 */
export function csvField(value: string | number | boolean | null | undefined, text = false): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

export function entryCsvRow(e: StoredEvent, venue: Venue): string {
  const entrance = venue.entrances.find((x) => x.id === e.entrance)?.code ?? e.entrance;
  const zone = venue.zones.find((z) => z.id === e.zone)?.code ?? e.zone;
  return [
    csvField(e.eventId),
    csvField(e.gateId),
    csvField(e.gateSeq),
    csvField(e.lane),
    csvField(e.kind),
    csvField(e.direction),
    csvField(e.reason),
    csvField(e.ticketId),
    csvField(e.generation),
    csvField(e.session),
    csvField(entrance),
    csvField(zone),
    csvField(e.manual ? 1 : 0),
    csvField(e.steward, true),
    csvField(iso(e.at)),
    csvField(iso(e.receivedAt)),
    csvField(e.detail, true),
  ].join(",");
}

/** Resolves when the socket wants more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Streams the CSV; stops early (without error) when the client goes away. */
export async function streamSessionCsv(
  res: ServerResponse,
  store: ServerStore,
  venue: Venue,
  session: Session,
): Promise<void> {
  const file = `entries-${venue.id}-${session.code}.csv`.replace(/[^A-Za-z0-9._-]/g, "_");
  res.writeHead(200, {
    "content-type": "text/csv; charset=utf-8; header=present",
    "content-disposition": `attachment; filename="${file}"`,
    "cache-control": "no-store",
  });
  let gone = false;
  res.once("close", () => {
    gone = true;
  });
  res.write(`${ENTRY_CSV_COLUMNS.join(",")}\r\n`);
  let after = 0;
  for (;;) {
    if (gone) return;
    const page = store.sessionEvents(session.id, after, PAGE);
    const last = page[page.length - 1];
    if (!last) break;
    after = last.rowId;
    const chunk = `${page.map((e) => entryCsvRow(e, venue)).join("\r\n")}\r\n`;
    if (!res.write(chunk)) await drained(res);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}
