import { randomBytes, type ScryptOptions, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

/*
 * Dashboard sign-in: named users with scrypt password hashes, server-side sessions behind a random
 * cookie id (the password or token never travels again after sign-in), and a throttle on wrong
 * passwords. Sessions live in memory: a restarted server asks everyone to sign in again.
 */

/**
 * supervisor: security alerts, commands, quarantine; tech: the technical side; admin: the venue's
 * administrators, who alone provision gates (hand out a gate's identity).
 */
export type DashboardRole = "admin" | "supervisor" | "tech";

export interface DashboardUser {
  /** Sign-in name, also who a command or an acknowledgement is recorded as. */
  readonly name: string;
  readonly role: DashboardRole;
  /** `$scrypt$ln=16,r=8,p=1$<salt>$<hash>` (base64 without padding), from hashPassword(). */
  readonly passwordHash: string;
}

export const DASHBOARD_ROLES: readonly DashboardRole[] = ["admin", "supervisor", "tech"];
const USER_NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._@'-]{0,63}$/u;
export const MIN_PASSWORD_LENGTH = 10;
/** Longer passwords are refused before hashing: scrypt's cost must not be the attacker's to choose. */
export const MAX_PASSWORD_LENGTH = 1024;

// ---------------------------------------------------------------------------------------------
// Password hashes

export interface ScryptCost {
  /** log2 of N: 16 = 64 MiB of memory and about 0.3 s on a small server. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = { ln: 16, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function scryptOptions(cost: ScryptCost): ScryptOptions {
  // Node refuses above 32 MiB by default; the memory needed is 128 · N · r bytes plus a little.
  return { N: 2 ** cost.ln, r: cost.r, p: cost.p, maxmem: 128 * 2 ** cost.ln * cost.r * 2 };
}

const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");

/** A password hash for a users file or `http.users` (synchronous: for setup and tools, not requests). */
export function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): string {
  if (password.length > MAX_PASSWORD_LENGTH) throw new Error("password too long");
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(password.normalize("NFC"), salt, KEY_BYTES, scryptOptions(cost));
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly key: Buffer;
}

export function parsePasswordHash(stored: string): ParsedHash | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    stored,
  );
  if (!m) return undefined;
  const cost = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Bounds keep a hand-edited users file from making every sign-in a denial of service.
  if (cost.ln < 10 || cost.ln > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16)
    return undefined;
  const salt = Buffer.from(m[4] ?? "", "base64");
  const key = Buffer.from(m[5] ?? "", "base64");
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { cost, salt, key };
}

function scryptAsync(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, scryptOptions(cost), (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Checks a password in the thread pool (a sign-in never blocks the event loop), constant-time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed || password.length > MAX_PASSWORD_LENGTH) return false;
  const key = await scryptAsync(password, parsed.salt, parsed.cost);
  return timingSafeEqual(key, parsed.key);
}

/** Checks a users list at start-up, so that a typo in the file is an error and not a locked door. */
export function validateUsers(users: readonly unknown[]): DashboardUser[] {
  const names = new Set<string>();
  return users.map((u, i) => {
    const where = `users[${i}]`;
    if (typeof u !== "object" || u === null) throw new Error(`${where}: not an object`);
    const { name, role, passwordHash } = u as Record<string, unknown>;
    if (typeof name !== "string" || !USER_NAME.test(name))
      throw new Error(
        `${where}.name: 1 to 64 letters, digits, spaces or ._@'- (starting with a letter or digit)`,
      );
    const key = name.toLowerCase();
    if (names.has(key)) throw new Error(`${where}.name: ${name} is listed twice`);
    names.add(key);
    if (!isDashboardRole(role))
      throw new Error(`${where}.role: ${DASHBOARD_ROLES.join(", ")}, got ${JSON.stringify(role)}`);
    if (typeof passwordHash !== "string" || !parsePasswordHash(passwordHash))
      throw new Error(`${where}.passwordHash: not a hash made by hashPassword() / sesame dashboard-user`);
    return { name, role, passwordHash };
  });
}

export function isDashboardRole(role: unknown): role is DashboardRole {
  return DASHBOARD_ROLES.includes(role as DashboardRole);
}

export function validUserName(name: string): boolean {
  return USER_NAME.test(name);
}

// ---------------------------------------------------------------------------------------------
// Sessions

export interface DashboardSession {
  readonly id: string;
  readonly name: string;
  readonly role: DashboardRole;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  /** Signed out after this long without a request (an open dashboard's stream counts as activity). */
  readonly idleMs: number;
  /** Signed out this long after signing in, whatever happens. */
  readonly maxMs: number;
  readonly maxSessions: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  maxMs: 12 * 3_600_000,
  maxSessions: 1000,
};

export class DashboardSessions {
  private readonly sessions = new Map<string, DashboardSession>();

  constructor(
    private readonly now: () => number,
    readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
  ) {}

  create(name: string, role: DashboardRole): DashboardSession {
    this.prune();
    if (this.sessions.size >= this.limits.maxSessions) {
      // Map iteration order is insertion order: the oldest sign-in goes first.
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.sessions.delete(oldest.value);
    }
    const now = this.now();
    const session: DashboardSession = {
      id: randomBytes(32).toString("base64url"),
      name,
      role,
      createdAt: now,
      lastSeenAt: now,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of a cookie value, its idle clock restarted; undefined when unknown or expired. */
  touch(id: string | undefined): DashboardSession | undefined {
    const session = this.peek(id);
    if (session) session.lastSeenAt = this.now();
    return session;
  }

  /** Like touch() without counting as activity. */
  peek(id: string | undefined): DashboardSession | undefined {
    if (id === undefined || id.length > 128) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.expired(session)) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private expired(s: DashboardSession): boolean {
    const now = this.now();
    return now - s.lastSeenAt > this.limits.idleMs || now - s.createdAt > this.limits.maxMs;
  }

  private prune(): void {
    for (const [id, s] of this.sessions) if (this.expired(s)) this.sessions.delete(id);
  }
}

// ---------------------------------------------------------------------------------------------
// Wrong-password throttle

export interface ThrottleLimits {
  /** Wrong passwords allowed for one name from one address before waiting starts. */
  readonly freeAttempts: number;
  /** First wait, doubled at every further failure, up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failures from one address (any names) within windowMs before that address waits windowMs. */
  readonly perAddress: number;
  readonly windowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  freeAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  perAddress: 50,
  windowMs: 15 * 60_000,
};

interface Failures {
  count: number;
  lockedUntil: number;
  lastAt: number;
}

/**
 * Counts wrong passwords per (address, name) — so that nobody can lock a supervisor out from
 * elsewhere — and per address over all names (guessing many names). An attempt counts as a failure
 * from the moment it starts, so parallel guesses cannot slip through while scrypt runs.
 */
export class LoginThrottle {
  private readonly byPair = new Map<string, Failures>();
  private readonly byAddress = new Map<string, Failures>();

  constructor(
    private readonly now: () => number,
    readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
  ) {}

  /** Milliseconds to wait before this attempt is allowed; 0 = go ahead (and the attempt is counted). */
  begin(address: string, name: string): number {
    const now = this.now();
    this.prune(now);
    const pairKey = `${address}\u0000${name.toLowerCase()}`;
    const pair = this.byPair.get(pairKey);
    const addr = this.byAddress.get(address);
    const wait = Math.max(pair?.lockedUntil ?? 0, addr?.lockedUntil ?? 0) - now;
    if (wait > 0) return wait;
    const p = pair ?? { count: 0, lockedUntil: 0, lastAt: now };
    p.count++;
    p.lastAt = now;
    if (p.count > this.limits.freeAttempts) {
      const exponent = Math.min(30, p.count - this.limits.freeAttempts - 1);
      p.lockedUntil = now + Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** exponent);
    }
    this.byPair.set(pairKey, p);
    const a =
      addr && now - addr.lastAt <= this.limits.windowMs ? addr : { count: 0, lockedUntil: 0, lastAt: now };
    a.count++;
    a.lastAt = now;
    if (a.count > this.limits.perAddress) a.lockedUntil = now + this.limits.windowMs;
    this.byAddress.set(address, a);
    return 0;
  }

  /** A right password: this name's failures from this address are forgiven. */
  succeeded(address: string, name: string): void {
    this.byPair.delete(`${address}\u0000${name.toLowerCase()}`);
    const a = this.byAddress.get(address);
    if (a) a.count = Math.max(0, a.count - 1);
  }

  private prune(now: number): void {
    if (this.byPair.size + this.byAddress.size < 10_000) return;
    for (const map of [this.byPair, this.byAddress])
      for (const [k, f] of map)
        if (f.lockedUntil < now && now - f.lastAt > this.limits.windowMs) map.delete(k);
  }
}

/** A hash to spend the same time on when the name is unknown (no user enumeration by timing). */
export function decoyPasswordHash(like: string | undefined): string {
  return hashPassword(
    randomBytes(16).toString("hex"),
    (like && parsePasswordHash(like)?.cost) || DEFAULT_SCRYPT_COST,
  );
}
