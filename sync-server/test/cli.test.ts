import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseProvisioning } from "@sesame/sync";
import { captureOutput, makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import { runMosquittoConfigCommand, runSyncServerCommand } from "../src/cli.js";
import { waitFor } from "./harness.js";

function io(interrupted: Promise<void> = new Promise(() => {})) {
  const { stdout, stderr, out, err } = captureOutput();
  return { io: { stdout, stderr, now: () => Date.now(), interrupted }, out, err };
}

describe("sesame sync-server / mosquitto-config commands", () => {
  const dir = makeTempDir("sesame-cli-");
  const venueDir = join(dir.path, "venue");
  writeVenueDirectory(
    venueDir,
    generateDemoVenue({
      spectators: 50,
      doorsOpenMs: Date.now(),
      entrances: 2,
      lanes: 4,
      random: seededRandom("cli"),
      signer: createNodeSigner(),
    }),
    createNodeSigner(),
  );
  afterAll(() => dir.remove());

  it("mosquitto-config --provision writes the config, password file, ACL and gate credentials", async () => {
    const out = join(dir.path, "mosq");
    const t = io();
    const code = await runMosquittoConfigCommand(
      ["--venue", venueDir, "--out", out, "--port", "18883", "--provision"],
      t.io,
    );
    expect(code).toBe(0);
    const passwd = readFileSync(join(out, "passwd"), "utf8");
    expect(passwd).toMatch(/^sync-server:\$7\$/m);
    expect(passwd).toMatch(/^gate-A1:\$7\$/m);
    expect(readFileSync(join(out, "acl"), "utf8")).toContain("topic write sesame/SDF/gates/B1/events");
    expect(readFileSync(join(out, "mosquitto.conf"), "utf8")).toContain("listener 18883 127.0.0.1");
    const p = parseProvisioning(JSON.parse(readFileSync(join(out, "gates", "A1.json"), "utf8")));
    expect(p.mqtt.url).toBe("mqtt://127.0.0.1:18883");
  });

  it("refuses bad arguments with a clear message and exit code 2", async () => {
    const t = io();
    expect(await runMosquittoConfigCommand(["--out", "x"], t.io)).toBe(2);
    expect(t.err()).toMatch(/missing --venue/);
    const u = io();
    expect(await runSyncServerCommand(["--venue", venueDir, "--http-port", "99999"], u.io)).toBe(2);
    expect(u.err()).toMatch(/--http-port must be a port number/);
    const v = io();
    expect(await runSyncServerCommand(["--venue", join(dir.path, "nowhere")], v.io)).toBe(2);
    expect(v.err()).toMatch(/not a venue directory/);
  });

  it("sync-server starts with the embedded broker, writes its tokens and stops on interrupt", async () => {
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const t = io(interrupted);
    const dataDir = join(dir.path, "data-run");
    const running = runSyncServerCommand(
      ["--venue", venueDir, "--data", dataDir, "--http-port", "0", "--mqtt-port", "0"],
      t.io,
    );
    await waitFor(() => t.out().includes("Ctrl-C"), 30_000, "server started");
    expect(t.out()).toMatch(/MQTT {2}mqtt:\/\/127\.0\.0\.1:\d+ \(embedded aedes/);
    expect(existsSync(join(dataDir, "tokens.json"))).toBe(true);
    stop();
    expect(await running).toBe(0);
  });
});
