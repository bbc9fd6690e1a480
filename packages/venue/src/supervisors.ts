import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

/*
 * Supervisors' override codes (docs/design.md §1, "Manual admission"; §9). A gate checks a
 * supervisor offline: the venue lists its supervisors in venue.json with each one's override code
 * stored only as a salted scrypt hash, and that list reaches every gate inside the signed gate
 * bundle, so a gate believes no list the venue's keys did not sign. The clear code is told to the
 * supervisor alone. A stolen gate gives away the hashes: codes are long (8 to 12 digits) and the
 * hash slow, so that guessing one offline costs years of CPU, and a code is changed by issuing a
 * new bundle.
 */

export interface Supervisor {
  /** e.g. "SUP-01": what the steward types and the event log records. */
  readonly id: string;
  readonly name: string;
  /** `scrypt$N$r$p$<salt hex>$<hash hex>` of the override code (hashOverrideCode). */
  readonly overrideCode: string;
}

export const SUPERVISOR_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const OVERRIDE_CODE = /^\d{8,12}$/;

/** scrypt cost: 2^15 × 8 × 128 B = 32 MiB and ~0.1 s per check here; a wrong guess costs the same. */
const DEFAULT_N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const FORMAT = /^scrypt\$(\d{1,8})\$(\d{1,2})\$(\d)\$([0-9a-f]{32})\$([0-9a-f]{64})$/;

export class SupervisorCodeError extends Error {
  override readonly name = "SupervisorCodeError";
}

interface Parsed {
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parse(stored: string): Parsed {
  const m = FORMAT.exec(stored);
  if (!m) throw new SupervisorCodeError("an override code hash must read scrypt$N$r$p$<salt>$<hash>");
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Signed data, but a cost no gate can pay would still stall it: bounded.
  if (n < 1 << 14 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 16 || p < 1 || p > 4)
    throw new SupervisorCodeError(`override code hash cost N=${n} r=${r} p=${p} is out of bounds`);
  return { n, r, p, salt: Buffer.from(m[4] ?? "", "hex"), hash: Buffer.from(m[5] ?? "", "hex") };
}

const memoryFor = (p: Parsed) => 128 * p.n * p.r * 2;

/** The stored form of a supervisor's override code (8 to 12 digits). */
export function hashOverrideCode(code: string, options: { salt?: Uint8Array; n?: number } = {}): string {
  if (!OVERRIDE_CODE.test(code)) throw new SupervisorCodeError("an override code is 8 to 12 digits");
  const salt = Buffer.from(options.salt ?? randomBytes(16));
  if (salt.length !== 16) throw new SupervisorCodeError("an override code's salt is 16 bytes");
  const n = options.n ?? DEFAULT_N;
  const hash = scryptSync(code, salt, KEY_LENGTH, { N: n, r: R, p: P, maxmem: 128 * n * R * 2 });
  return `scrypt$${n}$${R}$${P}$${salt.toString("hex")}$${hash.toString("hex")}`;
}

/**
 * Whether `code` is the one `stored` was made from. Asynchronous (libuv's thread pool): the gate's
 * scans go on while the hash runs.
 */
export async function verifyOverrideCode(code: string, stored: string): Promise<boolean> {
  const p = parse(stored);
  if (!OVERRIDE_CODE.test(code)) return false;
  const hash = await new Promise<Buffer>((resolve, reject) =>
    scrypt(code, p.salt, p.hash.length, { N: p.n, r: p.r, p: p.p, maxmem: memoryFor(p) }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
  return timingSafeEqual(hash, p.hash);
}

/** Checks a venue's supervisor list; says which entry is wrong and why. */
export function checkSupervisors(value: unknown): Supervisor[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SupervisorCodeError("supervisors must be a list");
  const seen = new Set<string>();
  return value.map((s: unknown, i) => {
    const o = (typeof s === "object" && s !== null ? s : {}) as Record<string, unknown>;
    const where = `supervisors[${i}]`;
    if (typeof o.id !== "string" || !SUPERVISOR_ID.test(o.id))
      throw new SupervisorCodeError(`${where}.id must be 1 to 32 letters, digits, - or _`);
    if (seen.has(o.id)) throw new SupervisorCodeError(`${where}.id ${o.id} is listed twice`);
    seen.add(o.id);
    if (typeof o.name !== "string" || o.name.trim() === "" || o.name.length > 100)
      throw new SupervisorCodeError(`${where}.name must be 1 to 100 characters`);
    if (typeof o.overrideCode !== "string")
      throw new SupervisorCodeError(`${where}.overrideCode must be a hash (hashOverrideCode)`);
    try {
      parse(o.overrideCode);
    } catch (error) {
      throw new SupervisorCodeError(`${where}.overrideCode: ${(error as Error).message}`);
    }
    return { id: o.id, name: o.name, overrideCode: o.overrideCode };
  });
}
