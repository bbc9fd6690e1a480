import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { runCli } from "@sesame/cli";
import { captureOutput, freePort, makeTempDir } from "@sesame/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AT, csv, DOORS, sesame } from "./run-cli.js";

describe("sesame issuer", { timeout: 300_000 }, () => {
  const dir = makeTempDir();
  const venue = join(dir.path, "venue");
  let tickets: Array<Record<string, string>> = [];

  beforeAll(async () => {
    const r = await sesame(
      "venue",
      "demo",
      "--out",
      venue,
      "--seed",
      "issuer-cli",
      "--doors-open",
      DOORS,
      "--spectators",
      "60",
    );
    expect(r.code, r.err).toBe(0);
    tickets = csv(join(venue, "tickets.csv"));
  });
  afterAll(() => dir.remove());

  it("the demo's tickets carry a face value in EUR cents", () => {
    expect(tickets.every((t) => t.currency === "EUR" && /^\d+$/.test(t.face_value ?? ""))).toBe(true);
    expect(new Set(tickets.map((t) => t.face_value)).size).toBeGreaterThan(1);
  });

  it("runs with a venue and its imported keys: what it signs verifies against the venue's trust list", async () => {
    const port = await freePort();
    const data = join(dir.path, "issuer");
    const { stdout, stderr, out, err } = captureOutput();
    let stop = () => {};
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const running = runCli(
      ["issuer", "--data", data, "--port", String(port), "--venue", venue, "--import-keys"],
      {
        stdout,
        stderr,
        stdin: new PassThrough(),
        now: () => Date.parse(AT),
        interrupted,
      },
    );
    try {
      while (!out().includes("issuer at")) {
        const early = await Promise.race([running, new Promise((r) => setTimeout(() => r(undefined), 100))]);
        if (early !== undefined) throw new Error(`sesame issuer stopped (${early}): ${err()}`);
      }
      expect(err()).toContain("made from the venue's issuer seeds (keys 1)");
      const url = `http://127.0.0.1:${port}`;
      const token = readFileSync(join(data, "platform-token"), "utf8").trim();
      const t = tickets.find((x) => x.kind === "printed" && x.state === "valid");
      if (!t) throw new Error("no printed ticket in the demo");
      const res = await fetch(
        `${url}/venues/${JSON.parse(readFileSync(join(venue, "venue.json"), "utf8")).id}/tickets`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify([
            {
              id: 900_001,
              holder: "Inès Garnier",
              orderReference: "P24-ISSUER",
              sessions: [Number(t.session)],
              entrance: t.entrance,
              zone: t.zone,
              kind: "printed",
              face_value: Number(t.face_value),
              currency: "EUR",
            },
          ]),
        },
      );
      const body = (await res.json()) as { imported: number; credentials: Array<{ credential: string }> };
      expect(body.imported, JSON.stringify(body)).toBe(1);
      const credential = body.credentials[0]?.credential ?? "";
      const inspect = await sesame("credential", "inspect", credential, "--venue", venue, "--at", AT);
      expect(inspect.code, inspect.err).toBe(0);
      expect(JSON.parse(inspect.out)).toMatchObject({ valid: true, ticket: { ticketId: 900_001 } });
    } finally {
      stop();
      expect(await running).toBe(0);
    }
  });

  it("refuses a --postgres that is not a postgres:// URL", async () => {
    const r = await sesame("issuer", "--data", join(dir.path, "x"), "--postgres", "mysql://x");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--postgres must be a postgres:// URL");
  });
});
