import { createNodeVerifier, keyPairFromSeed } from "@sesame/ticket";
import type { Venue } from "@sesame/venue";
import { certifiedSupervisor, signedCommandsBody } from "@sesame/venue/testing";
import { describe, expect, it } from "vitest";
import type { GateRecord } from "../gates/repository.js";
import {
  buildCommand,
  commandInputs,
  commandTargets,
  SupervisorSignatureRefused,
  signedCommands,
} from "./commands.js";

/* Command checks and targets on their own: no store, no broker. */

const venue = {
  id: "V",
  entrances: [
    { id: 1, code: "N", name: "Nord", zones: [1] },
    { id: 2, code: "S", name: "Sud", zones: [1] },
  ],
} as unknown as Venue;
const ctx = { venue, gateKnown: (g: string) => g === "A1", now: 1_000, defaultTtlMs: 60_000, id: "c1" };

describe("commands", () => {
  it("builds a checked command for a gate or an entrance (by id or code)", () => {
    expect(buildCommand({ type: "lock-lane", gate: "A1", lane: 2 }, "dupont", ctx)).toEqual({
      id: "c1",
      type: "lock-lane",
      target: { gate: "A1" },
      lane: 2,
      by: "dupont",
      issuedAt: 1_000,
      expiresAt: 61_000,
    });
    expect(buildCommand({ type: "free-passage", entrance: "S", ttlSeconds: 5 }, "d", ctx)).toMatchObject({
      target: { entrance: 2 },
      expiresAt: 6_000,
    });
    expect(buildCommand({ type: "message", gate: "A1", text: "  porte 3  " }, "d", ctx).text).toBe("porte 3");
  });

  it("refuses bad input with a specific reason", () => {
    const refused = (input: Record<string, unknown>) => {
      try {
        buildCommand({ type: "lock-lane", ...input }, "d", ctx);
      } catch (error) {
        return [(error as { status: number }).status, (error as Error).message];
      }
      return undefined;
    };
    expect(refused({ type: "reboot", gate: "A1" })?.[1]).toMatch(/^type must be one of/);
    expect(refused({ gate: "A1", entrance: 1 })).toEqual([400, "give a gate or an entrance, not both"]);
    expect(refused({ gate: "Z9" })).toEqual([404, 'no gate "Z9"']);
    expect(refused({ entrance: 7 })).toEqual([404, "no entrance 7"]);
    expect(refused({ gate: "A1", lane: 256 })).toEqual([400, "lane must be a whole number 0–255"]);
    expect(refused({ type: "message", gate: "A1", text: "a\u0007b" })?.[1]).toMatch(/control characters/);
    expect(refused({ gate: "A1", ttlSeconds: 0 })).toEqual([400, "ttlSeconds must be between 1 and 3600"]);
  });

  it("venue: true is one command per entrance; with a gate or entrance it is refused", () => {
    expect(commandInputs({ type: "free-passage", venue: true }, venue).map((i) => i.entrance)).toEqual([
      1, 2,
    ]);
    expect(() => commandInputs({ type: "free-passage", venue: true, gate: "A1" }, venue)).toThrow(
      /not several/,
    );
    expect(() => commandInputs({ type: "free-passage", venue: "yes" }, venue)).toThrow(/venue must be true/);
  });

  it("an entrance command targets the entrance's provisioned gates", () => {
    const gate = (gateId: string, entrance: number, publicKey: string | null) =>
      ({ gateId, entrance, publicKey }) as GateRecord;
    const gates = [gate("A1", 1, "k"), gate("A2", 1, null), gate("B1", 2, "k")];
    const command = buildCommand({ type: "free-passage", entrance: 1 }, "d", ctx);
    expect(commandTargets(command, gates)).toEqual(["A1"]);
    expect(commandTargets(buildCommand({ type: "unlock-lane", gate: "A1" }, "d", ctx), gates)).toEqual([
      "A1",
    ]);
  });

  it("takes a free passage only as the supervisor's browser signed it, checked as the server would build it", () => {
    const rootSeed = Buffer.alloc(32, 5);
    const now = 1_000_000;
    const signing = {
      ...ctx,
      now,
      rootKey: keyPairFromSeed(rootSeed).publicKey,
      verifier: createNodeVerifier(),
    };
    const dupont = certifiedSupervisor({ rootSeed, venueId: "V", supervisor: "dupont", now });
    const body = (options: Partial<Parameters<typeof signedCommandsBody>[1]> = {}) =>
      signedCommandsBody(dupont, { type: "free-passage", targets: [{ entrance: 2 }], now, ...options });
    const [one] = signedCommands(body(), "dupont", signing);
    expect(one?.command).toMatchObject({ type: "free-passage", target: { entrance: 2 }, by: "dupont" });
    expect(one?.supervisor.certificate.supervisor).toBe("dupont");

    const refused = (input: Parameters<typeof signedCommands>[0], by = "dupont") => {
      try {
        signedCommands(input, by, signing);
      } catch (error) {
        return [
          (error as { status: number }).status,
          (error as Error).message,
          error instanceof SupervisorSignatureRefused,
        ];
      }
      return undefined;
    };
    expect(refused({ type: "free-passage", entrance: 2 } as never)?.slice(0, 1)).toEqual([400]);
    expect(refused(body(), "martin")).toEqual([
      403,
      expect.stringMatching(/names dupont, but martin sends it/),
      true,
    ]);
    expect(refused(body({ now: now - 600_000 }))?.[1]).toMatch(/more than 120 s from the server's clock/);
    expect(refused(body({ ttlMs: 7_200_000 }))?.[1]).toMatch(/ttlSeconds must be between 1 and 3600/);
    expect(refused(body({ targets: [{ entrance: 7 }] }))?.slice(0, 2)).toEqual([404, "no entrance 7"]);
    const tampered = body();
    const entry = tampered.signed[0];
    if (entry) entry.command = entry.command.replace('"entrance":2', '"entrance":1');
    expect(refused(tampered)).toEqual([
      403,
      expect.stringMatching(/not signed by the key of supervisor dupont/),
      true,
    ]);
    const extra = body();
    const first = extra.signed[0];
    if (first) {
      first.command = JSON.stringify({ ...JSON.parse(first.command), text: "hello" });
      first.sig = dupont.sign(first.command).sig;
    }
    expect(refused(extra)?.[1]).toMatch(/holds fields a free-passage command does not have/);
  });
});
