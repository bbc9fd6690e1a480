import { Category, type CategoryName, publicKeyProblem } from "@sesame/ticket";
import type { BundleTicket, Venue } from "./model.js";
import { controlCharacter } from "./text.js";

/*
 * Validation of tickets imported from the ticketing platform (JSON or CSV). Pure: each row is
 * checked on its own and gets a specific reason when refused; valid rows are imported even when
 * others are not (the report lists the refused ones with their row numbers).
 */

export interface ImportRow {
  readonly id: number;
  readonly holder: string;
  readonly orderReference: string;
  readonly sessions: readonly number[];
  readonly entrance: number;
  readonly zone: number;
  readonly seat: string;
  readonly categories: readonly CategoryName[];
  readonly kind: "mobile" | "printed";
  /** Hex of the holder's device key (mobile): when given, the server returns the signed credential. */
  readonly devicePublicKey?: string;
  /** The price printed on the ticket; a row may omit it (files written before prices were kept). */
  readonly faceValue?: FaceValue;
}

/** A ticket's face value: whole cents of an ISO 4217 currency (resale is only at this price). */
export interface FaceValue {
  readonly cents: number;
  readonly currency: string;
}

/** Largest face value accepted, in cents: 10 million of the currency, far above any seat. */
const MAX_FACE_VALUE_CENTS = 1_000_000_000;

/**
 * A face value from its two fields (`face_value` in cents, `currency`), or why it is refused; both
 * absent is `undefined` (the row carries no price).
 */
export function faceValueOf(cents: unknown, currency: unknown): FaceValue | undefined | { problem: string } {
  if (cents === undefined && currency === undefined) return undefined;
  if (cents === undefined) return { problem: "currency is given without face_value (cents)" };
  const n = toInt(cents);
  if (n === undefined || n < 0 || n > MAX_FACE_VALUE_CENTS)
    return { problem: `face_value must be a whole number of cents between 0 and ${MAX_FACE_VALUE_CENTS}` };
  if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency.trim().toUpperCase()))
    return { problem: "currency must be a three-letter ISO 4217 code (EUR) beside face_value" };
  return { cents: n, currency: currency.trim().toUpperCase() };
}

export interface RowRejection {
  /** 1-based row number (CSV: the line number, header being line 1). */
  readonly row: number;
  readonly ticketId?: number;
  readonly reason: string;
}

const CATEGORY_NAMES = Object.keys(Category) as CategoryName[];

function field(o: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (o[n] !== undefined && o[n] !== "") return o[n];
  return undefined;
}

function toInt(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) ? value : undefined;
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** A holder's name (import, resale, transfer), trimmed, or why it is refused. */
/**
 * Why a holder's device key (hex) cannot be put in a ticket, or undefined: not 32 bytes of hex, or a
 * key under which anyone could make the phone's proof (small order) or that no honest phone makes
 * (non-canonical). Checked before anything is stored, for imports, resales and transfers alike.
 */
export function devicePublicKeyProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || !/^[0-9a-fA-F]{64}$/.test(value))
    return "devicePublicKey must be 32 bytes of hex";
  const problem = publicKeyProblem(Uint8Array.from(Buffer.from(value, "hex")));
  return problem ? `${WEAK_DEVICE_KEY}it ${problem}` : undefined;
}

const WEAK_DEVICE_KEY = "devicePublicKey is unusable: ";

/** A refusal of a key no phone makes (an attempt at a ticket anyone could show): logged and alerted. */
export function isWeakDeviceKeyRefusal(reason: string): boolean {
  return reason.startsWith(WEAK_DEVICE_KEY);
}

export function holderName(value: unknown): { readonly name: string } | { readonly problem: string } {
  if (typeof value !== "string" || value.trim() === "" || value.length > 200)
    return { problem: "holder must be a non-empty name of at most 200 characters" };
  const control = controlCharacter(value);
  if (control)
    return { problem: `holder must not contain control or bidirectional-override characters (${control})` };
  return { name: value.trim() };
}

/** Checks one import row against the venue; returns the row or the reason it is refused. */
export function validateImportRow(raw: unknown, venue: Venue): ImportRow | string {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return "a row must be an object";
  const o = raw as Record<string, unknown>;
  const id = toInt(field(o, "id", "ticketId", "ticket_id"));
  if (id === undefined || id < 1 || id > 0xffffffff)
    return "id must be a whole number between 1 and 4294967295";
  const holder = holderName(field(o, "holder"));
  if ("problem" in holder) return holder.problem;
  const order = field(o, "orderReference", "order_reference");
  if (typeof order !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(order))
    return "orderReference must be 1 to 64 letters, digits or dashes";
  const rawSessions = field(o, "sessions", "session");
  const sessionList = Array.isArray(rawSessions)
    ? rawSessions
    : typeof rawSessions === "string"
      ? rawSessions.split(/[+;| ]/).filter((s) => s !== "")
      : rawSessions === undefined
        ? []
        : [rawSessions];
  const sessions: number[] = [];
  for (const s of sessionList) {
    const n = toInt(s) ?? venue.sessions.find((x) => x.code === s)?.id;
    if (n === undefined || !venue.sessions.some((x) => x.id === n))
      return `session ${JSON.stringify(s)} is not a session of ${venue.id}`;
    sessions.push(n);
  }
  if (sessions.length < 1 || sessions.length > 4) return "a ticket has 1 to 4 sessions";
  const rawEntrance = field(o, "entrance");
  const entrance =
    toInt(rawEntrance) ??
    venue.entrances.find((e) => e.code === rawEntrance)?.id ??
    (rawEntrance === undefined ? 0 : undefined);
  if (entrance === undefined || (entrance !== 0 && !venue.entrances.some((e) => e.id === entrance)))
    return `entrance ${JSON.stringify(rawEntrance)} is not an entrance of ${venue.id}`;
  const rawZone = field(o, "zone");
  const zone = toInt(rawZone) ?? venue.zones.find((z) => z.code === rawZone)?.id;
  if (zone === undefined || !venue.zones.some((z) => z.id === zone))
    return `zone ${JSON.stringify(rawZone)} is not a zone of ${venue.id}`;
  const seat = field(o, "seat") ?? "";
  if (typeof seat !== "string" || !/^[\x20-\x7e]{0,10}$/.test(seat))
    return "seat must be at most 10 printable ASCII characters";
  const rawCategories = field(o, "categories", "category");
  const categoryList = Array.isArray(rawCategories)
    ? rawCategories
    : typeof rawCategories === "string"
      ? rawCategories.split(/[+;| ]/).filter((c) => c !== "" && c.toLowerCase() !== "standard")
      : rawCategories === undefined
        ? []
        : [rawCategories];
  const categories: CategoryName[] = [];
  for (const c of categoryList) {
    const name = typeof c === "string" ? (c.toUpperCase().replace(/-/g, "_") as CategoryName) : undefined;
    if (!name || !CATEGORY_NAMES.includes(name))
      return `category ${JSON.stringify(c)} is unknown (${CATEGORY_NAMES.join(", ")})`;
    if (!categories.includes(name)) categories.push(name);
  }
  const kind = field(o, "kind") ?? "mobile";
  if (kind !== "mobile" && kind !== "printed") return "kind must be mobile or printed";
  const device = field(o, "devicePublicKey", "device_public_key");
  if (device !== undefined) {
    if (kind === "printed") return "a printed ticket has no device key";
    const problem = devicePublicKeyProblem(device);
    if (problem) return problem;
  }
  const faceValue = faceValueOf(field(o, "faceValue", "face_value"), field(o, "currency"));
  if (faceValue !== undefined && "problem" in faceValue) return faceValue.problem;
  return {
    id,
    holder: holder.name,
    orderReference: order,
    sessions,
    entrance,
    zone,
    seat,
    categories,
    kind,
    ...(typeof device === "string" ? { devicePublicKey: device.toLowerCase() } : {}),
    ...(faceValue !== undefined ? { faceValue } : {}),
  };
}

export function bundleTicketOf(row: ImportRow, issueSequence: number): BundleTicket {
  return {
    id: row.id,
    generation: 1,
    kind: row.kind,
    status: "valid",
    sessions: row.sessions,
    entrance: row.entrance,
    zone: row.zone,
    seat: row.seat,
    categories: row.categories,
    holder: row.holder,
    orderReference: row.orderReference,
    issueSequence,
  };
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). Returns rows of fields. */
export function parseCsv(text: string): string[][] | string {
  const rows: string[][] = [];
  let row: string[] = [];
  let fieldText = "";
  let quoted = false;
  let i = 0;
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  while (i < body.length) {
    const c = body.charAt(i);
    if (quoted) {
      if (c === '"') {
        if (body.charAt(i + 1) === '"') {
          fieldText += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      fieldText += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (fieldText !== "") return `line ${rows.length + 1}: a quote in the middle of a field`;
      quoted = true;
    } else if (c === ",") {
      row.push(fieldText);
      fieldText = "";
    } else if (c === "\n" || c === "\r") {
      row.push(fieldText);
      fieldText = "";
      rows.push(row);
      row = [];
      if (c === "\r" && body.charAt(i + 1) === "\n") i++;
    } else {
      fieldText += c;
    }
    i++;
  }
  if (quoted) return `line ${rows.length + 1}: unterminated quoted field`;
  if (fieldText !== "" || row.length > 0) {
    row.push(fieldText);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

/** CSV with a header line → row objects keyed by header names (lower case, trimmed). */
export function csvObjects(text: string): Array<Record<string, string>> | string {
  const rows = parseCsv(text);
  if (typeof rows === "string") return rows;
  const [header, ...data] = rows;
  if (!header) return "the CSV is empty (a header line is required)";
  const names = header.map((h) => h.trim().toLowerCase());
  if (!names.includes("id")) return "the CSV header has no id column";
  return data.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? "").trim()])));
}
