import type { Presence } from "@sesame/gate-core";
import type { TicketKind } from "@sesame/ticket";
import type { Session, TicketStatus } from "@sesame/venue";
import type Database from "better-sqlite3";
import { CacheError } from "./errors.js";
import type { VenueState } from "./facts.js";
import { presenceFromRow, type SeenRow, type TicketRow } from "./facts.js";
import { orderKey, queryWords } from "./normalize.js";

/*
 * The printed-confirmation search: a steward types an order reference or part of a name. Every
 * query is parameterized (the text is never SQL) and no LIKE is used. Names are found in a
 * full-text index of folded name tokens; the full-text query is built only from the folded words,
 * which hold letters and digits alone, so quotes, `%`, `_` or `*` typed by anyone match nothing
 * special.
 */

export interface LookupOptions {
  /** The time of the search: scopes it to the sessions whose doors are open. */
  readonly at: number;
  /** Search these sessions instead of the ones open at `at`. */
  readonly sessions?: readonly number[];
  readonly limit?: number;
}

export interface LookupHit {
  readonly ticketId: number;
  readonly generation: number;
  readonly holder: string;
  readonly orderReference: string;
  readonly session: number;
  readonly seat: string;
  readonly zone: { readonly id: number; readonly code: string };
  readonly entrance: { readonly id: number; readonly code: string };
  readonly kind: TicketKind;
  readonly status: TicketStatus;
  /** Whether the ticket has entered for this session (here or at another gate). */
  readonly entered: boolean;
  readonly presence?: Presence;
}

export interface LookupResult {
  readonly query: string;
  readonly by: "order" | "name";
  /** The sessions searched. */
  readonly sessions: readonly number[];
  readonly hits: readonly LookupHit[];
  /** More tickets match than `limit`. */
  readonly more: boolean;
  /** Tickets of this order held for sessions other than the ones searched. */
  readonly otherSessions: number;
}

export const DEFAULT_LOOKUP_LIMIT = 20;
const MAX_WORDS = 6;
const MAX_QUERY_LENGTH = 100;

export class Lookup {
  private readonly byOrder: Database.Statement;
  private readonly byName: Database.Statement;
  private readonly seen: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly venue: () => VenueState,
  ) {
    const columns =
      "t.id, t.generation, t.kind, t.status, t.sessions, t.entrance, t.zone, t.seat, t.categories, t.holder, t.order_ref";
    this.byOrder = db.prepare(
      `SELECT ${columns} FROM tickets t WHERE t.order_ref = ? COLLATE NOCASE ORDER BY t.id`,
    );
    // In ticket-id order (the full-text index's own order): an order's tickets come together.
    this.byName = db.prepare(
      `SELECT ${columns} FROM ticket_search s JOIN tickets t ON t.id = s.rowid
       WHERE ticket_search MATCH ? ORDER BY s.rowid LIMIT ?`,
    );
    this.seen = db.prepare(
      "SELECT state, first_entry_at, first_entry_gate, last_at, last_gate FROM seen WHERE ticket = ? AND session = ?",
    );
  }

  search(
    query: string,
    options: LookupOptions,
    openSessions: (at: number) => readonly Session[],
  ): LookupResult {
    const text = query.trim();
    if (text === "") throw new CacheError("empty search: type an order reference or part of a name");
    if (text.length > MAX_QUERY_LENGTH)
      throw new CacheError(`search text longer than ${MAX_QUERY_LENGTH} characters`);
    const limit = Math.max(1, Math.min(200, Math.floor(options.limit ?? DEFAULT_LOOKUP_LIMIT)));
    const sessions = [...(options.sessions ?? openSessions(options.at).map((s) => s.id))].filter(
      (s) => Number.isInteger(s) && s >= 0,
    );
    const inScope = new Set(sessions);
    const sessionOf = (row: TicketRow) =>
      row.sessions
        .split(",")
        .map(Number)
        .find((s) => inScope.has(s));

    if (!/\s/.test(text)) {
      const rows = this.byOrder.all(orderKey(text)) as TicketRow[];
      if (rows.length > 0) {
        const hits: LookupHit[] = [];
        let other = 0;
        for (const row of rows) {
          const session = sessionOf(row);
          if (session === undefined) other++;
          else hits.push(this.hit(row, session));
        }
        return {
          query: text,
          by: "order",
          sessions,
          hits: hits.slice(0, limit),
          more: hits.length > limit,
          otherSessions: other,
        };
      }
    }

    const words = queryWords(text);
    if (words.join("").length < 2)
      throw new CacheError("type at least 2 letters of the holder's name, or the order reference");
    if (words.length > MAX_WORDS) throw new CacheError(`type at most ${MAX_WORDS} words of the name`);
    if (sessions.length === 0)
      return { query: text, by: "name", sessions, hits: [], more: false, otherSessions: 0 };
    // Each word is a prefix of some token of the name, in any order; the words hold only letters
    // and digits (queryWords), so quoting them is enough to keep the search text out of the syntax.
    const match = `search_names : (${words.map((w) => `"${w}"*`).join(" AND ")}) AND search_sessions : (${sessions.map((s) => `"s${s}"`).join(" OR ")})`;
    const rows = this.byName.all(match, limit + 1) as TicketRow[];
    const hits: LookupHit[] = [];
    for (const row of rows.slice(0, limit)) {
      const session = sessionOf(row);
      if (session !== undefined) hits.push(this.hit(row, session));
    }
    return { query: text, by: "name", sessions, hits, more: rows.length > limit, otherSessions: 0 };
  }

  private hit(row: TicketRow, session: number): LookupHit {
    const venue = this.venue();
    const zone = venue.zones.find((z) => z.id === row.zone);
    const entrance =
      row.entrance !== 0
        ? venue.entrances.find((e) => e.id === row.entrance)
        : venue.entrances.find((e) => e.zones.includes(row.zone));
    const seen = this.seen.get(row.id, session) as SeenRow | undefined;
    const presence = seen ? presenceFromRow(seen) : undefined;
    return {
      ticketId: row.id,
      generation: row.generation,
      holder: row.holder,
      orderReference: row.order_ref,
      session,
      seat: row.seat,
      zone: { id: row.zone, code: zone?.code ?? String(row.zone) },
      entrance: { id: entrance?.id ?? row.entrance, code: entrance?.code ?? String(row.entrance) },
      kind: row.kind,
      status: row.status,
      entered: presence !== undefined,
      ...(presence ? { presence } : {}),
    };
  }
}
