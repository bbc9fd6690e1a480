import { describe, expect, it } from "vitest";
import { encodeBase45 } from "./base45.js";
import {
  Category,
  encodeCredentialText,
  issueCredential,
  MAX_SESSIONS,
  parseCredentialText,
  reconstructStep,
  STEP_SECONDS,
  TEXT_PREFIX,
  type VerifyOptions,
  verifyCredentialText,
} from "./credential.js";
import { createNodeVerifier, keyPairFromSeed, tweetnaclSigner, tweetnaclVerifier } from "./ed25519.js";
import { createTestIssuer, T0 } from "./fixtures.js";

const issuer = createTestIssuer("credential-tests");
const options = (nowMs = T0, extra: Partial<VerifyOptions> = {}): VerifyOptions => ({
  issuerKeys: issuer.issuerKeys,
  nowMs,
  issuerVerifier: createNodeVerifier(),
  ...extra,
});

function liveCode(nowMs = T0, overrides = {}) {
  const { credential, device } = issuer.issue(overrides);
  return { text: encodeCredentialText(issuer.show(credential, device, nowMs)), credential, device };
}

describe("credential round trip", () => {
  it("a live code verifies with every field intact", () => {
    const { text, credential } = liveCode();
    expect(text.startsWith(TEXT_PREFIX)).toBe(true);
    const v = verifyCredentialText(text, options());
    expect(v.valid).toBe(true);
    if (!v.valid) return;
    expect(v.credential.body).toEqual(credential.body);
    expect(v.proofLagSteps).toBe(0);
  });

  it("tweetnacl and node:crypto issue the same bytes (Ed25519 is deterministic)", () => {
    const { credential } = issuer.issue();
    const again = issueCredential(credential.body, issuer.issuerKey.seed, tweetnaclSigner);
    expect(Buffer.from(again.issuerSignature).equals(Buffer.from(credential.issuerSignature))).toBe(true);
  });

  it("a printed confirmation has no device proof and verifies", () => {
    const { credential } = issuer.issue({ kind: "printed", devicePublicKey: undefined });
    const text = encodeCredentialText(credential);
    const v = verifyCredentialText(text, options(T0 + 3_600_000));
    expect(v).toMatchObject({ valid: true });
  });

  it("the QR text of the largest mobile credential stays within 320 characters", () => {
    const { text } = liveCode(T0, {
      sessions: Array.from({ length: MAX_SESSIONS }, (_, i) => 60_000 + i),
      seat: "ZZ99-S9999",
      ticketId: 0xffffffff,
      issueSequence: 0xffffffff,
      categories: 0xffff,
    });
    expect(text.length).toBeLessThanOrEqual(320);
  });

  it("refuses to encode a body out of range", () => {
    expect(() => issuer.issue({ seat: "a seat label far too long" })).toThrow(/seat/);
    expect(() => issuer.issue({ sessions: [] })).toThrow(/sessions/);
    expect(() => issuer.issue({ kind: "printed" })).toThrow(/device key/);
  });
});

describe("freshness of the device proof", () => {
  const { credential, device } = issuer.issue();
  const shownAt = T0;
  const text = encodeCredentialText(issuer.show(credential, device, shownAt));
  const step = STEP_SECONDS * 1000;

  it.each([
    [0, true],
    [1, true],
    [2, true],
    [3, false],
    [40, false],
  ])("shown %i steps ago: valid=%s", (steps, valid) => {
    const v = verifyCredentialText(text, options(shownAt + steps * step));
    expect(v.valid).toBe(valid);
    if (!v.valid) expect(v.reason).toBe("EXPIRED_CODE");
  });

  it("a screenshot taken yesterday is expired, not forged", () => {
    const v = verifyCredentialText(text, options(shownAt + 86_400_000));
    expect(v).toMatchObject({ valid: false, reason: "EXPIRED_CODE" });
  });

  it("a code ahead of the gate's clock by a minute is named as such", () => {
    const v = verifyCredentialText(text, options(shownAt - 60_000));
    expect(v).toMatchObject({ valid: false, reason: "CODE_FROM_FUTURE" });
  });

  it("the 16-bit step is rebuilt across a wrap of the low bits", () => {
    expect(reconstructStep(0xfffe, 0x20001)).toBe(0x1fffe);
    expect(reconstructStep(0x0001, 0x1ffff)).toBe(0x20001);
    expect(reconstructStep(0x1234, 0x51234)).toBe(0x51234);
  });
});

describe("every bad input has its own reason", () => {
  const { text } = liveCode();
  const payload = text.slice(TEXT_PREFIX.length);
  const mutate = (i: number, c: string) => text.slice(0, i) + c + text.slice(i + 1);
  const other = createTestIssuer("someone-else", 7);

  const cases: Array<[string, string, string]> = [
    ["empty", "", "EMPTY"],
    ["1 MB of text", "A".repeat(1 << 20), "TOO_LONG"],
    ["non-ASCII", `${TEXT_PREFIX}${payload.slice(0, 20)}é${payload.slice(21)}`, "NOT_ASCII"],
    ["control character", `${TEXT_PREFIX}${payload.slice(0, 20)}\u0007${payload.slice(21)}`, "NOT_ASCII"],
    ["wrong prefix", `XX1:${payload}`, "WRONG_PREFIX"],
    ["lower-case prefix (a scanner setting)", `se1:${payload}`, "LOWER_CASE"],
    ["newer format", `SE2:${payload}`, "UNSUPPORTED_VERSION"],
    ["body version byte", TEXT_PREFIX + encodeBase45(Uint8Array.from([9, 1, 2, 3])), "UNSUPPORTED_VERSION"],
    ["truncated", text.slice(0, TEXT_PREFIX.length + 198), "TRUNCATED"],
    ["truncated to the prefix", TEXT_PREFIX, "TRUNCATED"],
    ["not Base45", `${TEXT_PREFIX}${payload.slice(0, 30)}abc${payload.slice(33)}`, "BAD_ENCODING"],
    ["bit-flipped body", mutate(30, text[30] === "A" ? "B" : "A"), "FORGED"],
    ["a web address", "https://tickets.example.org/t/123", "FOREIGN_CODE"],
    [
      "an EU DCC",
      "HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH-R6IOO6+IDOEZ%0EMK1+ZHN*PHA3+-SDJTD2+DG9BX*FE*O:9N",
      "FOREIGN_CODE",
    ],
    ["a SEPA payment", "BCD\n002\n1\nSCT\nBPOTBEB1\nRed Cross\nBE72000000001616", "FOREIGN_CODE"],
    ["unknown key", encodeCredentialText(issuer.show(...withKey(99))), "UNKNOWN_KEY"],
    ["another issuer's signature", encodeCredentialText(other.show(...fromOther())), "FORGED"],
    ["trailing bytes", TEXT_PREFIX + encodeBase45(Uint8Array.from([...decoded(), 0, 0])), "MALFORMED"],
  ];

  function withKey(keyId: number) {
    const { credential, device } = issuer.issue({ keyId });
    return [credential, device, T0] as const;
  }
  function fromOther() {
    const { credential, device } = other.issue();
    return [credential, device, T0] as const;
  }
  function decoded(): number[] {
    const p = parseCredentialText(text);
    if (!p.ok) throw new Error("fixture");
    const c = p.credential;
    const proof = c.proof;
    if (!proof) throw new Error("fixture");
    return [
      ...c.bodyBytes,
      ...c.issuerSignature,
      proof.stepLow >> 8,
      proof.stepLow & 0xff,
      ...proof.signature,
    ];
  }

  it.each(cases.map(([name, input, reason]) => ({ name, input, reason })))(
    "$name → $reason",
    ({ input, reason }) => {
      const v = verifyCredentialText(input, options());
      expect(v.valid).toBe(false);
      if (!v.valid) {
        expect(v.reason).toBe(reason);
        expect(v.detail.length).toBeGreaterThan(5);
      }
    },
  );

  it("names the kind of foreign code", () => {
    const v = verifyCredentialText("HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2", options());
    expect(v).toMatchObject({ valid: false, foreign: "health-certificate" });
    expect(verifyCredentialText("https://paris2024.org", options())).toMatchObject({ foreign: "url" });
  });

  it("a code forwarded to another phone fails the device proof", () => {
    const { credential } = issuer.issue();
    const thief = keyPairFromSeed(new Uint8Array(32).fill(9));
    const v = verifyCredentialText(encodeCredentialText(issuer.show(credential, thief, T0)), options());
    expect(v).toMatchObject({ valid: false, reason: "FORGED_PROOF" });
  });

  it("revoked and out-of-window issuer keys are refused", () => {
    const key = issuer.issuerKeys.get(issuer.keyId);
    if (!key) throw new Error("fixture");
    const revoked = new Map([[key.keyId, { ...key, revoked: true }]]);
    expect(verifyCredentialText(text, options(T0, { issuerKeys: revoked }))).toMatchObject({
      reason: "KEY_REVOKED",
    });
    const expired = new Map([[key.keyId, { ...key, validUntil: Math.floor(T0 / 1000) - 1 }]]);
    expect(verifyCredentialText(text, options(T0, { issuerKeys: expired }))).toMatchObject({
      reason: "KEY_NOT_VALID",
    });
  });

  it("the ticket's own validity window is enforced", () => {
    const early = liveCode(T0, { validFrom: Math.floor(T0 / 1000) + 600 });
    expect(verifyCredentialText(early.text, options())).toMatchObject({ reason: "NOT_YET_VALID" });
    const late = liveCode(T0, { validUntil: Math.floor(T0 / 1000) - 600, validFrom: 0 });
    expect(verifyCredentialText(late.text, options())).toMatchObject({ reason: "TICKET_EXPIRED" });
  });

  it("the portable verifier reaches the same verdicts", () => {
    for (const [, input, reason] of cases.filter(([, input]) => input.length < 2000)) {
      const v = verifyCredentialText(input, options(T0, { issuerVerifier: tweetnaclVerifier }));
      expect(v.valid ? "VALID" : v.reason).toBe(reason);
    }
  });
});

describe("category flags", () => {
  it("survive the round trip", () => {
    const flags = Category.ACCESSIBILITY | Category.ID_CHECK;
    const { text } = liveCode(T0, { categories: flags });
    const v = verifyCredentialText(text, options());
    expect(v.valid && v.credential.body.categories).toBe(flags);
  });
});
