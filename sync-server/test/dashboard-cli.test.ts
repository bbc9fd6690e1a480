import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { captureOutput, makeTempDir } from "@sesame/testing";
import { createNodeSigner, seededRandom } from "@sesame/ticket";
import { generateDemoVenue, writeVenueDirectory } from "@sesame/venue";
import { afterAll, describe, expect, it } from "vitest";
import { loadUsers, runDashboardUserCommand, runSyncServerCommand } from "../src/cli.js";
import { verifyPassword } from "../src/http/auth.js";
import { setUpServer } from "../src/root/set-up.js";
import { waitFor } from "./harness.js";

/* `sesame dashboard-user` and the dashboard options of `sesame sync-server`. */

function io(input = "", interrupted: Promise<void> = new Promise(() => {})) {
  const { stdout, stderr, out, err } = captureOutput();
  const stdin = new PassThrough();
  stdin.end(input);
  return { io: { stdout, stderr, stdin, now: () => Date.now(), interrupted }, out, err };
}

describe("dashboard users and serving from the command line", () => {
  const dir = makeTempDir("sesame-dash-cli-");
  const venueDir = join(dir.path, "venue");
  const dataDir = join(dir.path, "data");
  const usersFile = join(dataDir, "users.json");
  writeVenueDirectory(
    venueDir,
    generateDemoVenue({
      spectators: 40,
      doorsOpenMs: Date.now(),
      entrances: 1,
      lanes: 2,
      random: seededRandom("dash-cli"),
      signer: createNodeSigner(),
    }),
    createNodeSigner(),
  );
  // Set-up, as the demo's: the root (its own file) certifies the server's operations key.
  setUpServer(venueDir, dataDir, { now: Date.now() });
  afterAll(() => dir.remove());

  it("adds, updates and removes users; the password comes from standard input and is stored hashed", async () => {
    const add = io("a long enough password\n");
    const args = ["--venue", venueDir, "--data", dataDir, "--name", "dupont"];
    expect(await runDashboardUserCommand([...args, "--role", "supervisor"], add.io)).toBe(0);
    expect(add.out()).toMatch(/added dupont \(supervisor\)/);
    expect(statSync(usersFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(usersFile, "utf8");
    expect(text).not.toContain("a long enough password");
    const [user] = loadUsers(usersFile);
    expect(user?.role).toBe("supervisor");
    expect(await verifyPassword("a long enough password", user?.passwordHash ?? "")).toBe(true);

    const update = io("another password 2\n");
    expect(await runDashboardUserCommand([...args, "--role", "tech"], update.io)).toBe(0);
    expect(update.out()).toMatch(/updated dupont \(tech\)/);
    expect(loadUsers(usersFile)).toHaveLength(1);

    const short = io("short\n");
    expect(await runDashboardUserCommand([...args, "--role", "tech"], short.io)).toBe(2);
    expect(short.err()).toMatch(/10 to 1024 characters/);
    const badRole = io("a long enough password\n");
    expect(await runDashboardUserCommand([...args, "--role", "root"], badRole.io)).toBe(2);
    expect(badRole.err()).toMatch(/--role is admin, supervisor or tech/);
    const badName = io("a long enough password\n");
    expect(
      await runDashboardUserCommand(["--data", dataDir, "--name", "<b>x</b>", "--role", "tech"], badName.io),
    ).toBe(2);

    const remove = io();
    expect(await runDashboardUserCommand([...args, "--remove"], remove.io)).toBe(0);
    expect(loadUsers(usersFile)).toEqual([]);
    const again = io();
    expect(await runDashboardUserCommand([...args, "--remove"], again.io)).toBe(2);
  });

  it("refuses a users file it cannot trust, and a dashboard directory without index.html", async () => {
    const broken = join(dir.path, "broken-users.json");
    writeFileSync(
      broken,
      JSON.stringify({ users: [{ name: "x", role: "supervisor", passwordHash: "plain" }] }),
    );
    const t = io();
    expect(
      await runSyncServerCommand(["--venue", venueDir, "--data", dataDir, "--users", broken], t.io),
    ).toBe(1);
    expect(t.err()).toMatch(/passwordHash/);
    const missing = io();
    expect(
      await runSyncServerCommand(
        ["--venue", venueDir, "--users", join(dir.path, "nowhere.json")],
        missing.io,
      ),
    ).toBe(2);
    const empty = join(dir.path, "empty-dashboard");
    mkdirSync(empty);
    const u = io();
    expect(await runSyncServerCommand(["--venue", venueDir, "--dashboard", empty], u.io)).toBe(2);
    expect(u.err()).toMatch(/no index\.html/);
  });

  it("sync-server serves the dashboard given with --dashboard, with the users of --users", async () => {
    const add = io("a long enough password\n");
    expect(
      await runDashboardUserCommand(
        ["--users", usersFile, "--name", "Dupont", "--role", "supervisor"],
        add.io,
      ),
    ).toBe(0);
    const site = join(dir.path, "site");
    mkdirSync(site);
    writeFileSync(join(site, "index.html"), "<!doctype html><title>site</title>");
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const t = io("", interrupted);
    const running = runSyncServerCommand(
      [
        "--venue",
        venueDir,
        "--data",
        dataDir,
        "--http-port",
        "0",
        "--mqtt-port",
        "0",
        "--users",
        usersFile,
        "--dashboard",
        site,
      ],
      t.io,
    );
    await waitFor(() => t.out().includes("Ctrl-C"), 30_000, "server started");
    const url = /dashboard (http:\/\/\S+)/.exec(t.out())?.[1];
    expect(t.out()).toMatch(/1 user\(s\) in .*users\.json/);
    const page = await fetch(url ?? "");
    expect(await page.text()).toContain("<title>site</title>");
    const session = await fetch(`${url}api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "dupont", password: "a long enough password" }),
    });
    expect(session.status).toBe(200);
    stop();
    expect(await running).toBe(0);

    // `--dashboard off` serves none (without the option: the built dashboard, when there is one).
    let stopDefault: () => void = () => undefined;
    const interruptedDefault = new Promise<void>((resolve) => {
      stopDefault = resolve;
    });
    const d = io("", interruptedDefault);
    const runningDefault = runSyncServerCommand(
      ["--venue", venueDir, "--data", dataDir, "--http-port", "0", "--mqtt-port", "0", "--dashboard", "off"],
      d.io,
    );
    await waitFor(() => d.out().includes("Ctrl-C"), 30_000, "server started");
    expect(d.out()).toContain("dashboard not served (--dashboard off)");
    stopDefault();
    expect(await runningDefault).toBe(0);
  });
});
