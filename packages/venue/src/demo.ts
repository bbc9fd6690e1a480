import {
  type CategoryName,
  categoryNames,
  type Ed25519Signer,
  encodeCredentialText,
  issueCredential,
  keyPairFromSeed,
  pick,
  proveDevice,
  type RandomSource,
  randomInt,
  type SignedTrustListJson,
  signTrustList,
  type TicketBody,
  type TicketKind,
} from "@sesame/ticket";
import { issuerChangeSigner } from "./change-signature.js";
import type { FaceValue } from "./import-rows.js";
import type {
  BundleTicket,
  Entrance,
  Gate,
  GateBundle,
  Revocation,
  Session,
  SignedTicketChange,
  Venue,
  Zone,
} from "./model.js";
import { GATE_BUNDLE_FORMAT } from "./model.js";
import { FRENCH_FAMILY, FRENCH_GIVEN, INTERNATIONAL } from "./names.js";
import { hashOverrideCode } from "./supervisors.js";

export interface DemoOptions {
  readonly spectators: number;
  /** Doors open for the first session (ms since epoch). */
  readonly doorsOpenMs: number;
  readonly entrances: number;
  readonly lanes: number;
  /** Lanes per gate (kiosk); default: gates of 4 lanes where they fit, else 2. */
  readonly lanesPerGate?: number;
  readonly random: RandomSource;
  readonly signer: Ed25519Signer;
  /** Tickets sold after the gate bundle was cut (a last-minute sale the gates learn of by the feed). */
  readonly lateSales?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** What the holder's phone keeps for one ticket generation: the signed facts and the device key. */
export interface WalletEntry {
  readonly body: Omit<TicketBody, "devicePublicKey">;
  /** Hex of the 32-byte device seed; absent on printed confirmations. */
  readonly deviceSeed?: string;
}

export type DemoTicketState = "valid" | "resold-old" | "transferred-old" | "cancelled";

export interface DemoTicketRow {
  readonly id: number;
  readonly generation: number;
  readonly orderReference: string;
  readonly holder: string;
  readonly session: number;
  readonly entrance: number;
  readonly zone: number;
  readonly seat: string;
  readonly categories: readonly CategoryName[];
  readonly kind: TicketKind;
  /** The price printed on the ticket (resale is only at this price). */
  readonly faceValue: FaceValue;
  readonly state: DemoTicketState;
  /** Sold after the gate bundle was cut. */
  readonly late: boolean;
}

export interface DemoVenue {
  readonly venue: Venue;
  readonly trustList: SignedTrustListJson;
  readonly bundle: GateBundle;
  /** Sold after the bundle was cut: the feed's first changes, signed by the issuer key. */
  readonly changes: readonly SignedTicketChange[];
  readonly wallets: readonly WalletEntry[];
  readonly rows: readonly DemoTicketRow[];
  readonly secrets: {
    readonly rootSeed: string;
    readonly issuerSeeds: Record<string, string>;
    /** The demo supervisors' override codes in clear (a real venue tells each to its supervisor only). */
    readonly supervisorCodes?: Record<string, string>;
  };
}

const HOUR = 3_600_000;
const ORDER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const ZONE_NAMES = [
  ["N1", "Tribune Nord, anneau bas"],
  ["N2", "Tribune Nord, anneau haut"],
  ["S1", "Tribune Sud, anneau bas"],
  ["S2", "Tribune Sud, anneau haut"],
  ["E1", "Tribune Est, anneau bas"],
  ["E2", "Tribune Est, anneau haut"],
  ["O1", "Tribune Ouest, anneau bas"],
  ["O2", "Tribune Ouest, anneau haut"],
] as const;
const ENTRANCE_CODES = "ABCDEFGHJKLMNPRSTUVWXYZ";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const DEMO_SUPERVISORS = [
  ["SUP-01", "Camille Roussel"],
  ["SUP-02", "Malik Benali"],
] as const;
/** Scrypt at its lowest allowed cost, once per code and salt: tests generate the demo venue often. */
const demoHashes = new Map<string, string>();
function demoCodeHash(code: string, salt: Uint8Array): string {
  const key = `${code}:${hex(salt)}`;
  let hash = demoHashes.get(key);
  if (hash === undefined) {
    hash = hashOverrideCode(code, { salt, n: 1 << 14 });
    demoHashes.set(key, hash);
  }
  return hash;
}
const isoOf = (ms: number) => new Date(ms).toISOString();

function holderName(random: RandomSource, family?: string): string {
  if (!family && random.next() < 0.25) return pick(random, INTERNATIONAL);
  return `${pick(random, FRENCH_GIVEN)} ${family ?? pick(random, FRENCH_FAMILY)}`;
}

function orderReference(random: RandomSource): string {
  let s = "P24-";
  for (let i = 0; i < 6; i++) s += ORDER_ALPHABET.charAt(randomInt(random, ORDER_ALPHABET.length));
  return s;
}

/**
 * The demo's price list, in EUR cents, close to a Games football or athletics session: the lower
 * ring dearest, standing places cheapest, children and spectators with a disability at the
 * reduced price, staff passes free. Drawn from the seat, never from the random source, so adding
 * prices changes no other value of a demo made from the same seed.
 */
export function demoFaceValue(zoneCode: string, standing: boolean, categories: number): FaceValue {
  const euros = (n: number): FaceValue => ({ cents: n * 100, currency: "EUR" });
  if (categories & (1 << 2)) return euros(0); // STAFF
  if (categories & ((1 << 0) | (1 << 1))) return euros(24); // ACCESSIBILITY, CHILD
  if (standing) return euros(50);
  return zoneCode.endsWith("1") ? euros(125) : euros(85);
}

function categoriesFor(random: RandomSource): number {
  let flags = 0;
  const r = random.next();
  if (r < 0.02)
    flags |= 1 << 0; // ACCESSIBILITY
  else if (r < 0.1)
    flags |= 1 << 1; // CHILD
  else if (r < 0.11) flags |= 1 << 2; // STAFF
  if (random.next() < 0.03) flags |= 1 << 3; // ID_CHECK
  return flags;
}

/** Lays out sessions, zones, entrances and gates for a demo stadium. */
export function demoLayout(
  options: Pick<DemoOptions, "doorsOpenMs" | "entrances" | "lanes" | "spectators" | "lanesPerGate">,
): Omit<Venue, "rootPublicKey"> {
  const entranceCount = Math.max(1, Math.min(ENTRANCE_CODES.length, Math.floor(options.entrances)));
  const zoneCount = Math.max(entranceCount, Math.min(ZONE_NAMES.length, entranceCount * 2));
  const zones: Zone[] = Array.from({ length: zoneCount }, (_, i) => {
    const [code, name] = ZONE_NAMES[i % ZONE_NAMES.length] ?? ["Z", "Zone"];
    return { id: i + 1, code, name, capacity: Math.ceil((options.spectators * 1.05) / zoneCount) };
  });
  const entrances: Entrance[] = Array.from({ length: entranceCount }, (_, i) => {
    const code = ENTRANCE_CODES.charAt(i);
    return {
      id: i + 1,
      code,
      name: `Porte ${code}`,
      zones: zones.filter((_, z) => z % entranceCount === i).map((z) => z.id),
    };
  });
  const gates: Gate[] = [];
  const lanesTotal = Math.max(entranceCount, Math.floor(options.lanes));
  entrances.forEach((entrance, i) => {
    let lanes = Math.floor(lanesTotal / entranceCount) + (i < lanesTotal % entranceCount ? 1 : 0);
    let n = 1;
    while (lanes > 0) {
      const here =
        options.lanesPerGate !== undefined
          ? Math.min(lanes, Math.max(1, Math.floor(options.lanesPerGate)))
          : lanes >= 4 && lanes !== 5 && lanes !== 6
            ? 4
            : Math.min(lanes, 2);
      gates.push({ id: `${entrance.code}${n++}`, entrance: entrance.id, lanes: here });
      lanes -= here;
    }
  });
  const day = 24 * HOUR;
  const sessions: Session[] = [
    {
      id: 1,
      code: "ATH-S1",
      name: "Athlétisme — session 1 (J1)",
      doorsOpen: isoOf(options.doorsOpenMs),
      start: isoOf(options.doorsOpenMs + 1.5 * HOUR),
      end: isoOf(options.doorsOpenMs + 4.5 * HOUR),
      reentry: "none",
    },
    {
      id: 2,
      code: "ATH-S2",
      name: "Athlétisme — session 2 (J2)",
      doorsOpen: isoOf(options.doorsOpenMs + day),
      start: isoOf(options.doorsOpenMs + day + 1.5 * HOUR),
      end: isoOf(options.doorsOpenMs + day + 4.5 * HOUR),
      reentry: "exit-scan",
    },
  ];
  return {
    id: "SDF",
    name: "Stade de France (démo)",
    timezone: "Europe/Paris",
    sessions,
    zones,
    entrances,
    gates,
  };
}

/**
 * The bundle's tickets (all but those the feed issues later) and the feed sequence it includes.
 * Loops and a set, for the documented 1,000,000 tickets: a spread into Math.max overflows the stack
 * from about 150,000 arguments, and looking each ticket up among the late sales is quadratic.
 */
export function cutBundle(
  tickets: readonly BundleTicket[],
  revocations: readonly Revocation[],
  changes: readonly SignedTicketChange[],
): { readonly tickets: BundleTicket[]; readonly feedSequence: number } {
  const soldLate = new Set<number>();
  for (const c of changes) if (c.type === "issue") soldLate.add(c.ticket.id);
  const cut = tickets.filter((t) => !soldLate.has(t.id));
  let feedSequence = 0;
  for (const t of cut) feedSequence = Math.max(feedSequence, t.issueSequence);
  for (const r of revocations) feedSequence = Math.max(feedSequence, r.sequence);
  return { tickets: cut, feedSequence };
}

/**
 * Generates a whole demo venue: keys, signed trust list, tickets in orders with holders, resales,
 * transfers, cancellations, printed confirmations, and late sales after the gate bundle was cut.
 * Pure apart from the injected random source and signer.
 */
export function generateDemoVenue(options: DemoOptions): DemoVenue {
  const { random, signer } = options;
  const root = keyPairFromSeed(random.bytes(32));
  const issuer = keyPairFromSeed(random.bytes(32));
  const keyId = 1;
  const layout = demoLayout(options);
  const venue: Venue = { ...layout, rootPublicKey: hex(root.publicKey) };
  const firstDoors = options.doorsOpenMs;
  const keyFrom = Math.floor((firstDoors - 30 * 24 * HOUR) / 1000);
  const keyUntil = Math.floor((firstDoors + 60 * 24 * HOUR) / 1000);
  const trustList = signTrustList(
    {
      venue: venue.id,
      version: 1,
      issuedAt: Math.floor((firstDoors - 24 * HOUR) / 1000),
      keys: [
        { keyId, publicKey: issuer.publicKey, validFrom: keyFrom, validUntil: keyUntil, revoked: false },
      ],
    },
    root.seed,
    signer,
  );

  const total = Math.max(0, Math.floor(options.spectators));
  const lateSales = Math.min(total, options.lateSales ?? Math.max(1, Math.floor(total / 200)));
  const tickets: BundleTicket[] = [];
  const revocations: Revocation[] = [];
  const changes: SignedTicketChange[] = [];
  const changeSigner = issuerChangeSigner(venue.id, { keyId, seed: issuer.seed }, signer);
  const wallets: WalletEntry[] = [];
  const rows: DemoTicketRow[] = [];
  let sequence = 0;
  let nextId = 100_001;
  const seatCounters = new Map<number, number>();

  const issueGeneration = (
    base: Omit<TicketBody, "generation" | "issueSequence" | "devicePublicKey">,
    generation: number,
    issueSequence: number,
  ): WalletEntry => {
    if (base.kind === "printed") {
      return { body: { ...base, generation, issueSequence } };
    }
    const deviceSeed = random.bytes(32);
    return { body: { ...base, generation, issueSequence }, deviceSeed: hex(deviceSeed) };
  };

  const soldBeforeCut = total - lateSales;
  while (tickets.length < total) {
    const size = Math.min(total - tickets.length, 1 + Math.floor(random.next() ** 2 * 4));
    const session = random.next() < 0.75 ? 1 : 2;
    const zone = pick(random, venue.zones);
    const entrance = venue.entrances.find((e) => e.zones.includes(zone.id)) ?? venue.entrances[0];
    if (!entrance) throw new Error("venue without entrances");
    const sessionInfo = venue.sessions.find((s) => s.id === session);
    if (!sessionInfo) throw new Error("missing session");
    const order = orderReference(random);
    const family = pick(random, FRENCH_FAMILY);
    const printed = random.next() < 0.05;
    const standing = zone.code.endsWith("1") && random.next() < 0.1;
    for (let k = 0; k < size; k++) {
      const id = nextId++;
      const late = tickets.length >= soldBeforeCut;
      const seatNo = (seatCounters.get(zone.id) ?? 0) + 1;
      seatCounters.set(zone.id, seatNo);
      const seat = standing
        ? ""
        : `R${String(1 + (Math.floor(seatNo / 40) % 60)).padStart(2, "0")}-S${String(1 + (seatNo % 40)).padStart(3, "0")}`;
      const categories = categoriesFor(random);
      const kind: TicketKind = printed ? "printed" : "mobile";
      const base = {
        kind,
        keyId,
        ticketId: id,
        sessions: [session],
        entrance: entrance.id,
        zone: zone.id,
        seat,
        categories,
        validFrom: Math.floor((Date.parse(sessionInfo.doorsOpen) - 2 * HOUR) / 1000),
        validUntil: Math.floor((Date.parse(sessionInfo.end) + 2 * HOUR) / 1000),
      };
      let holder =
        k === 0
          ? holderName(random, random.next() < 0.8 ? family : undefined)
          : holderName(random, random.next() < 0.6 ? family : undefined);
      let generation = 1;
      const first = issueGeneration(base, generation, ++sequence);
      wallets.push(first);
      let status: BundleTicket["status"] = "valid";
      let lastState: DemoTicketState = "valid";
      const pushRow = (state: DemoTicketState) =>
        rows.push({
          id,
          generation,
          orderReference: order,
          holder,
          session,
          entrance: entrance.id,
          zone: zone.id,
          seat,
          categories: categoryNames(categories),
          kind,
          faceValue: demoFaceValue(zone.code, standing, categories),
          state,
          late,
        });
      // Resales and transfers bump the generation and revoke the old code (mobile tickets only).
      const fate = late || printed ? 1 : random.next();
      if (fate < 0.03 || (fate >= 0.03 && fate < 0.06)) {
        const reason = fate < 0.03 ? "resold" : "transferred";
        pushRow(reason === "resold" ? "resold-old" : "transferred-old");
        generation++;
        holder = holderName(random);
        const next = issueGeneration(base, generation, ++sequence);
        wallets.push(next);
        revocations.push({ ticketId: id, generation: generation - 1, reason, sequence });
      } else if (fate >= 0.06 && fate < 0.07) {
        status = "cancelled";
        lastState = "cancelled";
      }
      const ticket: BundleTicket = {
        id,
        generation,
        kind,
        status,
        sessions: [session],
        entrance: entrance.id,
        zone: zone.id,
        seat,
        categories: categoryNames(categories),
        holder,
        orderReference: order,
        issueSequence: sequence,
      };
      if (status === "cancelled")
        revocations.push({ ticketId: id, generation, reason: "cancelled", sequence: ++sequence });
      if (late) changes.push(changeSigner.sign({ sequence, type: "issue", ticket }));
      tickets.push(ticket);
      pushRow(lastState);
      if (tickets.length % 1000 === 0) options.onProgress?.(tickets.length, total);
    }
  }
  options.onProgress?.(total, total);
  const { tickets: cut, feedSequence } = cutBundle(tickets, revocations, changes);
  // Drawn last, so that the tickets of a seed stay what they were before supervisors existed.
  const supervisorCodes: Record<string, string> = {};
  const supervisors = DEMO_SUPERVISORS.map(([id, name]) => {
    let code = "";
    for (let i = 0; i < 10; i++) code += String(randomInt(random, 10));
    supervisorCodes[id] = code;
    return { id, name, overrideCode: demoCodeHash(code, random.bytes(16)) };
  });
  const signedVenue: Venue = { ...venue, supervisors };
  const bundle: GateBundle = {
    format: GATE_BUNDLE_FORMAT,
    generatedAt: isoOf(firstDoors - 6 * HOUR),
    feedSequence,
    venue: signedVenue,
    trustList,
    tickets: cut,
    revocations,
  };
  return {
    venue: signedVenue,
    trustList,
    bundle,
    changes,
    wallets,
    rows,
    secrets: {
      rootSeed: hex(root.seed),
      issuerSeeds: { [String(keyId)]: hex(issuer.seed) },
      supervisorCodes,
    },
  };
}

/** Rebuilds the code a holder's phone shows at `nowMs` (or the static code printed on paper). */
export function walletCode(
  entry: WalletEntry,
  issuerSeed: Uint8Array,
  nowMs: number,
  signer: Ed25519Signer,
): string {
  const deviceSeed = entry.deviceSeed ? Uint8Array.from(Buffer.from(entry.deviceSeed, "hex")) : undefined;
  const devicePublicKey = deviceSeed ? keyPairFromSeed(deviceSeed).publicKey : undefined;
  const credential = issueCredential(
    { ...entry.body, ...(devicePublicKey ? { devicePublicKey } : {}) },
    issuerSeed,
    signer,
  );
  return encodeCredentialText(deviceSeed ? proveDevice(credential, deviceSeed, nowMs, signer) : credential);
}
