import { describe, expect, it } from "vitest";
import {
  DashboardSessions,
  hashPassword,
  LoginThrottle,
  parsePasswordHash,
  validateUsers,
  verifyPassword,
} from "../src/http/auth.js";
import { csvField } from "../src/http/export.js";
import { TEST_COST } from "./dashboard-harness.js";

/* Dashboard sign-in pieces with an injected clock: hashes, session expiry, the wrong-password throttle. */

describe("dashboard passwords, sessions and throttle", () => {
  it("hashes with scrypt (salted, parameters in the hash) and verifies", async () => {
    const a = hashPassword("correct horse battery", TEST_COST);
    const b = hashPassword("correct horse battery", TEST_COST);
    expect(a).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
    // Unicode passwords are compared in one normal form (é typed composed or decomposed).
    const accented = hashPassword("mot de passe \u00e9t\u00e9", TEST_COST);
    expect(await verifyPassword("mot de passe e\u0301te\u0301", accented)).toBe(true);
  });

  it("refuses hashes it did not make or whose cost would be a denial of service", async () => {
    expect(parsePasswordHash("$7$1000$abc$def")).toBeUndefined();
    expect(parsePasswordHash("plain-text-password")).toBeUndefined();
    const good = hashPassword("x".repeat(12), TEST_COST);
    const huge = good.replace("ln=12", "ln=30");
    expect(parsePasswordHash(huge)).toBeUndefined();
    expect(await verifyPassword("x".repeat(12), huge)).toBe(false);
    expect(() => validateUsers([{ name: "dupont", role: "supervisor", passwordHash: "secret" }])).toThrow(
      /passwordHash/,
    );
    expect(() => validateUsers([{ name: "dupont", role: "root", passwordHash: good }])).toThrow(/role/);
    expect(validateUsers([{ name: "leroy", role: "admin", passwordHash: good }])[0]?.role).toBe("admin");
    expect(() =>
      validateUsers([
        { name: "Dupont", role: "tech", passwordHash: good },
        { name: "dupont", role: "supervisor", passwordHash: good },
      ]),
    ).toThrow(/twice/);
    expect(() => validateUsers([{ name: "<script>", role: "tech", passwordHash: good }])).toThrow(/name/);
  });

  it("expires sessions after idle time and after their maximum age, whatever the activity", () => {
    let now = 1_000_000;
    const sessions = new DashboardSessions(() => now, { idleMs: 1000, maxMs: 5000, maxSessions: 3 });
    const s = sessions.create("dupont", "supervisor");
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    now += 900;
    expect(sessions.touch(s.id)?.name).toBe("dupont");
    now += 900;
    expect(sessions.touch(s.id)).toBeDefined();
    now += 1001;
    expect(sessions.touch(s.id)).toBeUndefined();
    const t = sessions.create("martin", "tech");
    for (let i = 0; i < 6; i++) {
      now += 900;
      sessions.touch(t.id);
    }
    expect(sessions.peek(t.id)).toBeUndefined();
    expect(sessions.touch("not-a-session")).toBeUndefined();
    expect(sessions.touch(undefined)).toBeUndefined();
    // Beyond the limit, the oldest sign-in makes room.
    const ids = [1, 2, 3, 4].map((i) => sessions.create(`user${i}`, "tech").id);
    expect(sessions.size).toBe(3);
    expect(sessions.peek(ids[0])).toBeUndefined();
    expect(sessions.peek(ids[3])?.name).toBe("user4");
  });

  it("throttles wrong passwords per address and name, doubling the wait, and per address overall", () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now, {
      freeAttempts: 2,
      baseDelayMs: 1000,
      maxDelayMs: 5000,
      perAddress: 10,
      windowMs: 60_000,
    });
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0); // third attempt allowed, then 1 s wait
    expect(throttle.begin("10.0.0.1", "Dupont")).toBe(1000);
    // The same name from another address is not affected (nobody locks a supervisor out from afar).
    expect(throttle.begin("10.0.0.2", "dupont")).toBe(0);
    now += 1000;
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(2000);
    now += 2000;
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    now += 4000;
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(5000); // 8 s, capped at 5 s
    throttle.succeeded("10.0.0.1", "dupont");
    expect(throttle.begin("10.0.0.1", "dupont")).toBe(0);
    // Many names from one address: the address waits.
    for (let i = 0; i < 10; i++) throttle.begin("10.0.0.9", `name${i}`);
    expect(throttle.begin("10.0.0.9", "another")).toBe(0);
    expect(throttle.begin("10.0.0.9", "yet-another")).toBe(60_000);
  });

  it("quotes CSV fields and defuses formulas in free text", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(" padded ")).toBe('" padded "');
    expect(csvField("=1+1", true)).toBe("'=1+1");
    expect(csvField("@SUM(A1)", true)).toBe("'@SUM(A1)");
    expect(csvField("-3", false)).toBe("-3");
    expect(csvField(null)).toBe("");
    expect(csvField(0)).toBe("0");
  });
});
