import { createPrivateKey, createPublicKey, type KeyObject, sign as nodeSign } from "node:crypto";
import type { ReasonCode } from "@sesame/gate-core";
import type { Random } from "@sesame/hardware-sim";
import {
  Category,
  type Credential,
  type Ed25519Signer,
  encodeCredentialText,
  issueCredential,
  proveDevice,
  STEP_SECONDS,
} from "@sesame/ticket";
import type { DemoVenue, WalletEntry } from "@sesame/venue";

/*
 * The people of a rehearsal and the simulator's ground truth (docs/design.md §8). Everyone is made from
 * the demo venue's wallets, so the simulator knows what each code is and what the gate must say:
 * the ticket holders of the session (plain, steward-assisted: printed confirmations, ID checks,
 * accessibility; tickets sold after the gates' bundle was cut), and the bad codes real ingress
 * sees — screenshots, forgeries, old codes of resold and transferred tickets, cancelled tickets,
 * tomorrow's tickets, holders at the wrong entrance, a code used a second time, QR codes that are
 * not tickets. The gate never sees this file's knowledge: only the code text, through the reader.
 */

export type Profile =
  | "valid"
  | "late-sale"
  | "printed"
  | "id-check"
  | "accessibility"
  | "no-show"
  | "wrong-entrance"
  | "screenshot"
  | "forged"
  | "resold"
  | "transferred"
  | "cancelled"
  | "wrong-session"
  | "used-twice"
  | "foreign-qr";

export const PROFILES: readonly Profile[] = [
  "valid",
  "late-sale",
  "printed",
  "id-check",
  "accessibility",
  "no-show",
  "wrong-entrance",
  "screenshot",
  "forged",
  "resold",
  "transferred",
  "cancelled",
  "wrong-session",
  "used-twice",
  "foreign-qr",
];

/** What the gate must do with one presentation of a code. */
export interface Truth {
  /** admit: let through; assisted: a steward confirms, then let through; refuse: not let through. */
  readonly expect: "admit" | "assisted" | "refuse";
  /** The reason codes the gate may give (any other is reported as a wrong reason). */
  readonly reasons: readonly ReasonCode[];
}

/** How a person's code is made (plain data: it crosses to worker threads). */
export type CodeSpec =
  | { readonly kind: "wallet"; readonly wallet: number }
  /** A photo of the wallet's code taken two minutes earlier. */
  | { readonly kind: "screenshot"; readonly wallet: number }
  /** The wallet's code with one character changed by hand. */
  | { readonly kind: "forged"; readonly wallet: number }
  | { readonly kind: "text"; readonly text: string };

/** One person of the crowd, as plain data. */
export interface PersonSpec {
  readonly id: number;
  readonly profile: Profile;
  /** Virtual ms of their (first) arrival at the gates. */
  arriveAt: number;
  /** The entrance they queue at now. */
  entrance: number;
  /** The entrance on their ticket. */
  readonly ticketEntrance: number;
  truth: Truth;
  /** After a refusal for the wrong entrance: the presentation at the right one. */
  retry?: { readonly entrance: number; readonly truth: Truth };
  /** Turns back once after the unlock (the authorization must be annulled), returns later. */
  noShowOnce?: boolean;
  readonly kind: "mobile" | "printed" | "other";
  readonly code: CodeSpec;
}

/** Used-twice copies are numbered apart from everyone else. */
export const COPY_ID_OFFSET = 10_000_000;

export interface CrowdMix {
  readonly screenshot: number;
  readonly forged: number;
  readonly resold: number;
  readonly transferred: number;
  readonly cancelled: number;
  readonly wrongSession: number;
  readonly wrongEntrance: number;
  readonly usedTwice: number;
  readonly foreign: number;
  readonly noShow: number;
}

/** Shares of the people (the rest are the session's ticket holders as the demo venue sold them). */
export const REHEARSAL_MIX: CrowdMix = {
  screenshot: 0.02,
  forged: 0.005,
  resold: 0.01,
  transferred: 0.006,
  cancelled: 0.004,
  wrongSession: 0.008,
  wrongEntrance: 0.015,
  usedTwice: 0.01,
  foreign: 0.005,
  noShow: 0.003,
};

/** Static extra people (bad codes), as a share of everyone; used-twice copies come later. */
export function extraShare(mix: CrowdMix): number {
  return (
    mix.screenshot +
    mix.forged +
    mix.resold +
    mix.transferred +
    mix.cancelled +
    mix.wrongSession +
    mix.foreign +
    mix.usedTwice
  );
}

const FOREIGN_CODES = [
  "https://www.example.com/promo?id=42",
  "WIFI:S:Stade;T:WPA;P:motdepasse;;",
  "BEGIN:VCARD\nVERSION:3.0\nFN:Camille Martin\nEND:VCARD",
];

const ADMIT: Truth = { expect: "admit", reasons: ["ADMITTED"] };

// ---------------------------------------------------------------------------------------------
// The phones

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const PLACEHOLDER_X = Buffer.alloc(32).toString("base64url");

/**
 * The holders' phones sign with node:crypto. Importing a raw seed through PKCS#8 DER costs ~1 ms
 * here (OpenSSL's generic decoder), more than everything else a scan costs; as a JWK it is ~0.08
 * ms. Node derives the key from `d` alone (a placeholder `x` is not checked); if a Node version
 * ever refuses that, the DER import is used instead. Part of the simulated phones, not of the gate.
 */
export class PhoneSigner implements Ed25519Signer {
  readonly name = "node:crypto (simulated phones)";
  private readonly keys = new Map<string, KeyObject>();
  private jwk = true;

  private key(seed: Uint8Array): KeyObject {
    const id = Buffer.from(seed).toString("latin1");
    let key = this.keys.get(id);
    if (key !== undefined) return key;
    if (this.jwk) {
      try {
        key = createPrivateKey({
          key: { kty: "OKP", crv: "Ed25519", d: Buffer.from(seed).toString("base64url"), x: PLACEHOLDER_X },
          format: "jwk",
        });
      } catch {
        this.jwk = false;
      }
    }
    key ??= createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: "der", type: "pkcs8" });
    // Issuer keys are used for every ticket; device keys once or twice: keep only a few.
    if (this.keys.size > 4096) this.keys.clear();
    this.keys.set(id, key);
    return key;
  }

  sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, this.key(seed)));
  }

  publicKey(seed: Uint8Array): Uint8Array {
    const jwk = createPublicKey(this.key(seed)).export({ format: "jwk" });
    if (typeof jwk.x !== "string") throw new Error("no public key derived");
    return new Uint8Array(Buffer.from(jwk.x, "base64url"));
  }
}

/** What a holder's app (or a forger, or a screenshot) shows: codes made from the venue's wallets. */
export class Phones {
  /** Wall-clock ms spent making codes (simulator work, not the gate's). */
  wallMs = 0;
  private readonly issued = new Map<number, Credential>();
  private readonly issuerSeeds = new Map<number, Uint8Array>();
  readonly signer = new PhoneSigner();

  constructor(
    private readonly wallets: readonly WalletEntry[],
    private readonly seeds: Readonly<Record<string, string>>,
  ) {}

  private issuerSeed(keyId: number): Uint8Array {
    let seed = this.issuerSeeds.get(keyId);
    if (seed) return seed;
    const hex = this.seeds[String(keyId)];
    if (!hex) throw new Error(`the venue has no issuer seed for key ${keyId}`);
    seed = Uint8Array.from(Buffer.from(hex, "hex"));
    this.issuerSeeds.set(keyId, seed);
    return seed;
  }

  private wallet(index: number): WalletEntry {
    const w = this.wallets[index];
    if (!w) throw new Error(`no wallet ${index}`);
    return w;
  }

  /** The issuer-signed ticket, made once per wallet (a phone keeps it). */
  private credential(index: number): Credential {
    let c = this.issued.get(index);
    if (c) return c;
    const w = this.wallet(index);
    const deviceSeed = w.deviceSeed ? Uint8Array.from(Buffer.from(w.deviceSeed, "hex")) : undefined;
    c = issueCredential(
      { ...w.body, ...(deviceSeed ? { devicePublicKey: this.signer.publicKey(deviceSeed) } : {}) },
      this.issuerSeed(w.body.keyId),
      this.signer,
    );
    this.issued.set(index, c);
    return c;
  }

  /** The wallet's code at `nowMs` (a printed confirmation is the same at any time). */
  private walletCode(index: number, nowMs: number): string {
    const c = this.credential(index);
    const seed = this.wallet(index).deviceSeed;
    if (!seed) return encodeCredentialText(c);
    return encodeCredentialText(
      proveDevice(c, Uint8Array.from(Buffer.from(seed, "hex")), nowMs, this.signer),
    );
  }

  code(spec: CodeSpec, nowMs: number): string {
    const t = performance.now();
    try {
      switch (spec.kind) {
        case "wallet":
          return this.walletCode(spec.wallet, nowMs);
        case "screenshot":
          // Taken two minutes ago: the device proof is eight 15 s steps old.
          return this.walletCode(spec.wallet, nowMs - 8 * STEP_SECONDS * 1000);
        case "forged": {
          // One Base45 character changed by hand in the middle (the seat, the zone…).
          const text = this.walletCode(spec.wallet, nowMs);
          const at = 4 + Math.floor((text.length - 4) / 2);
          const swapped = text.charAt(at) === "A" ? "B" : "A";
          return `${text.slice(0, at)}${swapped}${text.slice(at + 1)}`;
        }
        case "text":
          return spec.text;
      }
    } finally {
      this.wallMs += performance.now() - t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The crowd

function assistedReasons(w: WalletEntry): ReasonCode[] {
  const c = w.body.categories;
  const out: ReasonCode[] = [];
  if (w.body.kind === "printed") out.push("PRINTED_CONFIRMATION");
  if ((c & Category.ID_CHECK) !== 0) out.push("ID_CHECK_REQUIRED");
  if ((c & Category.ACCESSIBILITY) !== 0) out.push("ACCESSIBILITY_ASSISTANCE");
  return out;
}

function take<T>(list: T[], random: Random): T | undefined {
  if (list.length === 0) return undefined;
  const i = Math.floor(random() * list.length);
  const last = list.pop();
  if (i >= list.length) return last;
  const item = list[i];
  if (last !== undefined) list[i] = last;
  return item;
}

export interface Population {
  readonly people: PersonSpec[];
  /** Holders whose code a friend tries again after they entered (used-twice). */
  readonly sharers: number[];
  /** Ticket holders for the session the demo venue has (the crowd's good codes). */
  readonly holdersAvailable: number;
}

/** The used-twice copy of a holder who just entered: the same app on a second phone. */
export function usedTwiceCopy(holder: PersonSpec, arriveAt: number): PersonSpec {
  if (holder.code.kind !== "wallet") throw new Error(`person ${holder.id} has no ticket to share`);
  return {
    id: COPY_ID_OFFSET + holder.id,
    arriveAt,
    profile: "used-twice",
    entrance: holder.ticketEntrance,
    ticketEntrance: holder.ticketEntrance,
    truth: { expect: "refuse", reasons: ["ALREADY_ENTERED"] },
    kind: "mobile",
    // The device key copied: a fresh, valid proof — refused because the ticket is inside.
    code: holder.code,
  };
}

/**
 * The crowd of one session: `count` people, of whom the mix's shares bring bad codes and the rest
 * are the session's ticket holders (drawn at random when the venue sold more). Arrival times are
 * left for the caller (0 here). Wallets are named by their index in `demo.wallets`.
 */
export function makePopulation(
  demo: DemoVenue,
  options: { count: number; session: number; random: Random; mix?: CrowdMix },
): Population {
  const { random, session } = options;
  const mix = options.mix ?? REHEARSAL_MIX;
  const entrances = demo.venue.entrances.map((e) => e.id);
  const stateOf = new Map(demo.rows.map((r) => [`${r.id}:${r.generation}`, r]));
  const holders: number[] = [];
  const late: number[] = [];
  const oldCodes = new Map<string, number[]>();
  const otherSession: number[] = [];
  const wallets = demo.wallets;
  wallets.forEach((w, index) => {
    const row = stateOf.get(`${w.body.ticketId}:${w.body.generation}`);
    if (!row) return;
    if (!w.body.sessions.includes(session)) {
      if (row.state === "valid" && !row.late && w.body.kind === "mobile") otherSession.push(index);
      return;
    }
    if (row.state === "valid") (row.late ? late : holders).push(index);
    else oldCodes.set(row.state, [...(oldCodes.get(row.state) ?? []), index]);
  });
  const available = holders.length + late.length;
  const walletOf = (index: number): WalletEntry => {
    const w = wallets[index];
    if (!w) throw new Error(`no wallet ${index}`);
    return w;
  };

  const people: PersonSpec[] = [];
  let nextId = 1;
  const person = (p: Omit<PersonSpec, "id" | "arriveAt">): PersonSpec => {
    const made: PersonSpec = { id: nextId++, arriveAt: 0, ...p };
    people.push(made);
    return made;
  };
  const n = Math.max(1, Math.floor(options.count));
  const share = (s: number) => Math.round(n * s);

  // Bad codes first (their pools are small), then holders fill the rest.
  const mobileHolder = () => {
    for (let tries = 0; tries < 20; tries++) {
      const index = holders[Math.floor(random() * holders.length)];
      if (index !== undefined && walletOf(index).deviceSeed) return index;
    }
    return undefined;
  };
  /** A holder's code (as shown, or a copy of it) brought to their ticket's entrance, to be refused. */
  const refusedAtOwnEntrance = (
    index: number,
    profile: Profile,
    reasons: ReasonCode[],
    code: "wallet" | "screenshot" | "forged",
  ) => {
    const w = walletOf(index);
    person({
      profile,
      entrance: w.body.entrance,
      ticketEntrance: w.body.entrance,
      truth: { expect: "refuse", reasons },
      kind: w.body.kind === "printed" ? "printed" : "mobile",
      code: { kind: code, wallet: index },
    });
  };
  for (let i = 0; i < share(mix.screenshot); i++) {
    const index = mobileHolder();
    if (index === undefined) break;
    refusedAtOwnEntrance(index, "screenshot", ["EXPIRED_CODE"], "screenshot");
  }
  for (let i = 0; i < share(mix.forged); i++) {
    const index = mobileHolder();
    if (index === undefined) break;
    refusedAtOwnEntrance(index, "forged", ["FORGED", "FORGED_PROOF", "MALFORMED"], "forged");
  }
  const oldCode = (state: string, profile: Profile, reason: ReasonCode, s: number) => {
    for (let i = 0; i < share(s); i++) {
      const index = take(oldCodes.get(state) ?? [], random);
      if (index === undefined) return;
      refusedAtOwnEntrance(index, profile, [reason], "wallet");
    }
  };
  oldCode("resold-old", "resold", "REVOKED_RESOLD", mix.resold);
  oldCode("transferred-old", "transferred", "SUPERSEDED_TRANSFERRED", mix.transferred);
  oldCode("cancelled", "cancelled", "CANCELLED", mix.cancelled);
  for (let i = 0; i < share(mix.wrongSession); i++) {
    // Tomorrow's ticket (the demo's second session is the next day): WRONG_DAY, with the session
    // and day it is for (its validity window has not begun, but the sessions say more); WRONG_SESSION
    // for a later session today; TICKET_NOT_VALID only while one of its sessions is open.
    const index = take(otherSession, random);
    if (index === undefined) break;
    refusedAtOwnEntrance(
      index,
      "wrong-session",
      ["TICKET_NOT_VALID", "WRONG_DAY", "WRONG_SESSION"],
      "wallet",
    );
  }
  for (let i = 0; i < share(mix.foreign); i++) {
    person({
      profile: "foreign-qr",
      entrance: entrances[Math.floor(random() * entrances.length)] ?? 1,
      ticketEntrance: 0,
      truth: { expect: "refuse", reasons: ["NOT_A_TICKET", "MALFORMED"] },
      kind: "other",
      code: { kind: "text", text: FOREIGN_CODES[i % FOREIGN_CODES.length] ?? "hello" },
    });
  }

  // The holders: late sales first (few), then the session's holders at random.
  const room = Math.max(0, n - people.length - share(mix.usedTwice));
  const chosen: number[] = [];
  for (const index of late) if (chosen.length < room) chosen.push(index);
  while (chosen.length < room) {
    const index = take(holders, random);
    if (index === undefined) break;
    chosen.push(index);
  }
  let wrongEntrance = share(mix.wrongEntrance);
  let noShow = share(mix.noShow);
  const sharers: number[] = [];
  let sharersLeft = share(mix.usedTwice);
  const isLate = new Set(late);
  for (const index of chosen) {
    const w = walletOf(index);
    const assisted = assistedReasons(w);
    const truth: Truth =
      assisted.length > 0
        ? { expect: "assisted", reasons: assisted }
        : isLate.has(index)
          ? // Admitted as a new sale until the ticket feed reaches the gate, then as any ticket.
            { expect: "admit", reasons: ["ADMITTED_NEW_SALE", "ADMITTED"] }
          : ADMIT;
    const base = {
      ticketEntrance: w.body.entrance,
      kind: w.body.kind === "printed" ? "printed" : "mobile",
      code: { kind: "wallet", wallet: index },
    } as const;
    const plain = truth === ADMIT;
    const other = entrances.filter((e) => e !== w.body.entrance);
    if (plain && wrongEntrance > 0 && other.length > 0 && random() < 0.1) {
      wrongEntrance--;
      person({
        ...base,
        profile: "wrong-entrance",
        entrance: other[Math.floor(random() * other.length)] ?? w.body.entrance,
        truth: { expect: "refuse", reasons: ["WRONG_ENTRANCE"] },
        retry: { entrance: w.body.entrance, truth: ADMIT },
      });
      continue;
    }
    if (plain && noShow > 0 && random() < 0.05) {
      noShow--;
      person({ ...base, profile: "no-show", entrance: w.body.entrance, truth, noShowOnce: true });
      continue;
    }
    const profile: Profile = isLate.has(index)
      ? "late-sale"
      : w.body.kind === "printed"
        ? "printed"
        : assisted.includes("ID_CHECK_REQUIRED")
          ? "id-check"
          : assisted.length > 0
            ? "accessibility"
            : "valid";
    const p = person({ ...base, profile, entrance: w.body.entrance, truth });
    if (plain && sharersLeft > 0 && random() < 0.05) {
      sharersLeft--;
      sharers.push(p.id);
    }
  }
  return { people, sharers, holdersAvailable: available };
}
