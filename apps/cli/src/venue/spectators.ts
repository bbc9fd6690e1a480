import type { Random, Spectator } from "@sesame/hardware-sim";
import { Category, type Ed25519Signer, STEP_SECONDS } from "@sesame/ticket";
import type { DemoVenue, WalletEntry } from "@sesame/venue";
import { walletCode } from "@sesame/venue";

/*
 * The people of a simulated ingress, made from a demo venue's wallets with the ground truth of
 * what each code should get at the gate: mostly good codes, and the bad ones that real ingress
 * sees (docs/design.md §8): screenshots, resold and transferred tickets' old codes, cancelled tickets,
 * forgeries, the wrong entrance, a code used twice, a QR that is not a ticket at all.
 */

export interface CrowdMix {
  readonly screenshot: number;
  readonly resold: number;
  readonly transferred: number;
  readonly cancelled: number;
  readonly forged: number;
  readonly wrongEntrance: number;
  readonly usedTwice: number;
  readonly foreign: number;
}

/** Shares of each bad profile; the rest are good codes (some of which need a steward). */
export const DEFAULT_MIX: CrowdMix = {
  screenshot: 0.03,
  resold: 0.02,
  transferred: 0.01,
  cancelled: 0.01,
  forged: 0.01,
  wrongEntrance: 0.03,
  usedTwice: 0.02,
  foreign: 0.01,
};

const FOREIGN_CODES = [
  "https://www.example.com/promo?id=42",
  "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DC9I0%YB/VM$*SBAKYE9*FJTJAHD4UDA2MB",
  "WIFI:S:Stade;T:WPA;P:motdepasse;;",
];

interface WalletIndex {
  readonly valid: WalletEntry[];
  readonly old: Map<string, WalletEntry[]>;
}

function indexWallets(demo: DemoVenue, session: number): WalletIndex {
  const stateOf = new Map(demo.rows.map((r) => [`${r.id}:${r.generation}`, r]));
  const valid: WalletEntry[] = [];
  const old = new Map<string, WalletEntry[]>();
  for (const w of demo.wallets) {
    if (!w.body.sessions.includes(session)) continue;
    const row = stateOf.get(`${w.body.ticketId}:${w.body.generation}`);
    if (!row || row.late) continue;
    if (row.state === "valid") valid.push(w);
    else {
      const list = old.get(row.state) ?? [];
      list.push(w);
      old.set(row.state, list);
    }
  }
  return { valid, old };
}

function expectationOf(w: WalletEntry): Spectator["expect"] {
  const c = w.body.categories;
  if (w.body.kind === "printed" || (c & Category.ID_CHECK) !== 0 || (c & Category.ACCESSIBILITY) !== 0)
    return "assisted";
  return "admit";
}

function take<T>(list: T[], random: Random): T | undefined {
  if (list.length === 0) return undefined;
  const i = Math.floor(random() * list.length);
  const [item] = list.splice(i, 1);
  return item;
}

/**
 * An endless-enough sequence of spectators for one session: every valid ticket comes once (in a
 * random order), bad codes are mixed in at the given shares, and stops when the good ones run out.
 */
export function* spectatorsOf(
  demo: DemoVenue,
  options: { session: number; random: Random; signer: Ed25519Signer; mix?: CrowdMix },
): Generator<Spectator> {
  const { random, signer, session } = options;
  const mix = options.mix ?? DEFAULT_MIX;
  const { valid, old } = indexWallets(demo, session);
  const seedOf = (keyId: number) => {
    const hex = demo.secrets.issuerSeeds[String(keyId)];
    if (!hex) throw new Error(`the demo venue has no issuer seed for key ${keyId}`);
    return Uint8Array.from(Buffer.from(hex, "hex"));
  };
  const entrances = demo.venue.entrances.map((e) => e.id);
  const admitted: WalletEntry[] = [];
  const codeOf = (w: WalletEntry) => (now: number) => walletCode(w, seedOf(w.body.keyId), now, signer);
  let n = 0;
  const person = (
    profile: string,
    entrance: number,
    expect: Spectator["expect"],
    code: (now: number) => string,
  ): Spectator => ({ id: `P${++n}`, profile, entrance, expect, code });
  const ticketEntrance = (w: WalletEntry) =>
    w.body.entrance === 0 ? (entrances[Math.floor(random() * entrances.length)] ?? 1) : w.body.entrance;

  while (valid.length > 0) {
    const roll = random();
    let threshold = 0;
    const pick = (share: number) => {
      threshold += share;
      return roll < threshold;
    };
    if (pick(mix.screenshot)) {
      // A photo of someone's code, taken two minutes ago: the device proof is stale.
      const w = valid[Math.floor(random() * valid.length)];
      if (w?.deviceSeed) {
        const stale = codeOf(w);
        yield person("screenshot", ticketEntrance(w), "refuse", (now) =>
          stale(now - 8 * STEP_SECONDS * 1000),
        );
        continue;
      }
    } else if (pick(mix.resold)) {
      const w = take(old.get("resold-old") ?? [], random);
      if (w) {
        yield person("resold", ticketEntrance(w), "refuse", codeOf(w));
        continue;
      }
    } else if (pick(mix.transferred)) {
      const w = take(old.get("transferred-old") ?? [], random);
      if (w) {
        yield person("transferred", ticketEntrance(w), "refuse", codeOf(w));
        continue;
      }
    } else if (pick(mix.cancelled)) {
      const w = take(old.get("cancelled") ?? [], random);
      if (w) {
        yield person("cancelled", ticketEntrance(w), "refuse", codeOf(w));
        continue;
      }
    } else if (pick(mix.forged)) {
      const w = valid[Math.floor(random() * valid.length)];
      if (w) {
        const real = codeOf(w);
        // The seat changed by hand in the text: one Base45 character near the middle.
        yield person("forged", ticketEntrance(w), "refuse", (now) => {
          const text = real(now);
          const at = 4 + Math.floor((text.length - 4) / 2);
          const swapped = text.charAt(at) === "A" ? "B" : "A";
          return `${text.slice(0, at)}${swapped}${text.slice(at + 1)}`;
        });
        continue;
      }
    } else if (pick(mix.wrongEntrance)) {
      const v = valid[Math.floor(random() * valid.length)];
      const w = v && v.body.entrance !== 0 && expectationOf(v) === "admit" ? v : undefined;
      const other = w ? entrances.find((e) => e !== w.body.entrance) : undefined;
      if (w && other !== undefined) {
        yield person("wrong-entrance", other, "refuse", codeOf(w));
        continue;
      }
    } else if (pick(mix.usedTwice)) {
      // The same ticket again, at any entrance gate: someone shared their code.
      // Someone well ahead in the crowd: their entry is recorded by the time this one arrives.
      const settled = admitted.length - 30;
      const w = settled > 0 ? admitted[Math.floor(random() * settled)] : undefined;
      if (w) {
        yield person("used-twice", ticketEntrance(w), "refuse", codeOf(w));
        continue;
      }
    } else if (pick(mix.foreign)) {
      const code = FOREIGN_CODES[Math.floor(random() * FOREIGN_CODES.length)] ?? "hello";
      yield person(
        "foreign-qr",
        entrances[Math.floor(random() * entrances.length)] ?? 1,
        "refuse",
        () => code,
      );
      continue;
    }
    const w = take(valid, random);
    if (!w) break;
    const expect = expectationOf(w);
    if (expect === "admit") admitted.push(w);
    yield person(
      w.body.kind === "printed" ? "printed" : expect === "assisted" ? "id-check" : "valid",
      ticketEntrance(w),
      expect,
      codeOf(w),
    );
  }
}
