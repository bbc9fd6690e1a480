import { createNodeSigner, createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import { signSupervisorCertificate, supervisorKeyProblem } from "@sesame/venue";
import { certifiedSupervisor } from "@sesame/venue/testing";
import { describe, expect, it } from "vitest";
import type { Command, CommandMessage } from "./protocol.js";
import { checkSupervisorPart, signCommandText } from "./signing.js";

/* The supervisor's part of a lane-opening command (docs/design.md §9), as gate and server check it. */

const NOW = Date.UTC(2026, 5, 1, 12);
const rootSeed = Buffer.alloc(32, 7);
const rootKey = keyPairFromSeed(rootSeed).publicKey;
const verifier = createNodeVerifier();
const signer = createNodeSigner();
const options = { rootKey, verifier, venueId: "SDF", now: NOW };
const dupont = certifiedSupervisor({ rootSeed, venueId: "SDF", supervisor: "dupont", now: NOW });

const command = (type: Command["type"], by = "dupont"): { command: Command; json: string } => {
  const c: Command = {
    id: `cmd-${type}`,
    type,
    target: { entrance: 1 },
    by,
    issuedAt: NOW,
    expiresAt: NOW + 60_000,
  };
  return { command: c, json: JSON.stringify(c) };
};

const message = (json: string, supervisor?: CommandMessage["supervisor"]): CommandMessage => ({
  command: json,
  sig: signCommandText(json, Buffer.alloc(32, 1), signer),
  ...(supervisor ? { supervisor } : {}),
});

describe("checkSupervisorPart", () => {
  it("accepts a free passage signed by a certified supervisor, and names them", () => {
    const { command: c, json } = command("free-passage");
    const check = checkSupervisorPart(c, message(json, dupont.sign(json)), options);
    expect(check.ok && check.value?.supervisor).toBe("dupont");
  });

  it("leaves commands that do not open lanes to the operations key", () => {
    for (const type of ["end-free-passage", "lock-lane", "unlock-lane"] as const) {
      const { command: c, json } = command(type);
      expect(checkSupervisorPart(c, message(json), options)).toEqual({ ok: true, value: undefined });
    }
  });

  it("refuses a free passage signed by the operations key alone", () => {
    const { command: c, json } = command("free-passage");
    const check = checkSupervisorPart(c, message(json), options);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.detail).toMatch(/carries no supervisor's signature/);
  });

  it("refuses a key the root did not certify, a bad signature, another venue, an expired certificate", () => {
    const { command: c, json } = command("free-passage");
    const forged = certifiedSupervisor({
      rootSeed: Buffer.alloc(32, 9),
      venueId: "SDF",
      supervisor: "dupont",
      now: NOW,
    });
    const other = command("free-passage").json.replace('"entrance":1', '"entrance":2');
    const elsewhere = certifiedSupervisor({ rootSeed, venueId: "OTHER", supervisor: "dupont", now: NOW });
    const old = certifiedSupervisor({
      rootSeed,
      venueId: "SDF",
      supervisor: "dupont",
      now: NOW - 48 * 3600_000,
    });
    const tampered = { ...dupont.certificate, supervisor: "martin" };
    const cases: Array<[CommandMessage["supervisor"], string, RegExp]> = [
      [forged.sign(json), "bad-signature", /not signed by the venue root key/],
      [dupont.sign(other), "bad-signature", /not signed by the key of supervisor dupont/],
      [elsewhere.sign(json), "wrong-target", /for venue OTHER/],
      [old.sign(json), "expired", /valid from/],
      [{ sig: dupont.sign(json).sig, certificate: tampered }, "bad-signature", /root key/],
      [{ sig: dupont.sign(json).sig, certificate: { format: "x" } }, "invalid", /format/],
    ];
    for (const [part, reason, detail] of cases) {
      const check = checkSupervisorPart(c, message(json, part), options);
      expect(check.ok ? "ok" : check.reason).toBe(reason);
      if (!check.ok) expect(check.detail).toMatch(detail);
    }
  });

  it("refuses a command that names another supervisor than the one who signed", () => {
    const { command: c, json } = command("free-passage", "martin");
    const check = checkSupervisorPart(c, message(json, dupont.sign(json)), options);
    expect(check.ok ? "ok" : check.detail).toMatch(/names martin but is signed by supervisor dupont/);
  });

  it("certifies no key of small order", () => {
    const identity = `01${"00".repeat(31)}`;
    expect(supervisorKeyProblem(identity)).toMatch(/small order/);
    expect(() =>
      signSupervisorCertificate(
        { venue: "SDF", supervisor: "dupont", name: "D", publicKey: identity, notBefore: 0, notAfter: 1 },
        rootSeed,
        signer,
      ),
    ).toThrow(/small order/);
  });
});
