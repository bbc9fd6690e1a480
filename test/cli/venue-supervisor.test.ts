import { PassThrough } from "node:stream";
import { runCli } from "@sesame/cli";
import { captureOutput } from "@sesame/testing";
import { checkSupervisors, verifyOverrideCode } from "@sesame/venue";
import { describe, expect, it } from "vitest";

/** `sesame venue supervisor` with `input` on stdin. */
async function supervisor(input: string, ...argv: string[]) {
  const { stdout, stderr, out, err } = captureOutput();
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await runCli(["venue", "supervisor", ...argv], {
    stdout,
    stderr,
    stdin,
    now: () => 0,
    interrupted: new Promise(() => {}),
  });
  return { code, out: out(), err: err() };
}

describe("sesame venue supervisor", () => {
  it("prints a venue.json supervisor entry with the code's scrypt hash, never the code", async () => {
    const r = await supervisor("4815162342\n", "--id", "SUP-07", "--name", "Inès Moreau");
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain("4815162342");
    const [entry] = checkSupervisors([JSON.parse(r.out)]);
    expect(entry).toMatchObject({ id: "SUP-07", name: "Inès Moreau" });
    expect(await verifyOverrideCode("4815162342", entry?.overrideCode ?? "")).toBe(true);
    expect(await verifyOverrideCode("4815162343", entry?.overrideCode ?? "")).toBe(false);
  });

  it("refuses a short code, a bad id and a missing name, each with its reason", async () => {
    const short = await supervisor("1234\n", "--id", "SUP-07", "--name", "Inès");
    expect([short.code, short.err]).toEqual([2, expect.stringMatching(/8 to 12 digits/)]);
    const id = await supervisor("4815162342\n", "--id", "SUP 07", "--name", "Inès");
    expect(id.err).toMatch(/--id must be 1 to 32 letters/);
    const name = await supervisor("4815162342\n", "--id", "SUP-07");
    expect(name.err).toMatch(/--name NAME/);
  });
});
