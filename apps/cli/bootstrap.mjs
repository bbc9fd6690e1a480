#!/usr/bin/env node
// The README's commands start here, on a machine that may have only Node and npm.
// It installs the pinned pnpm, the workspace dependencies and (for tests) the system
// packages the tests talk to, then hands over to the real command. No dependencies.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const pinned = String(manifest.packageManager ?? "").replace(/^pnpm@/, "");
const [task = "test", ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (result.error) return { status: 127, error: result.error };
  return { status: result.status ?? (result.signal ? 128 : 1) };
}
function capture(cmd, args) {
  const result = spawnSync(cmd, args, { encoding: "utf8", cwd: root });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
function fail(message) {
  console.error(`sesame bootstrap: ${message}`);
  process.exit(1);
}

// Native addons (better-sqlite3) build against the machine's Node headers; pnpm 12 does not pass
// npm's nodedir setting to build scripts, so say it explicitly when the headers are where Debian puts them.
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h")) {
  process.env.npm_config_nodedir = "/usr";
}
process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
process.env.ELECTRON_SKIP_BINARY_DOWNLOAD = "1";

function ensurePnpm() {
  if (capture("pnpm", ["--version"]) === pinned) return "pnpm";
  // A private copy under .tmp/ needs no root and leaves any other pnpm on the machine alone.
  const local = join(root, ".tmp", "toolchain", "node_modules", ".bin", "pnpm");
  if (existsSync(local) && capture(local, ["--version"]) === pinned) {
    process.env.PATH = `${dirname(local)}${delimiter}${process.env.PATH ?? ""}`;
    return local;
  }
  console.log(`Installing pnpm ${pinned} (pinned by package.json) into .tmp/toolchain …`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = run(npm, [
    "install",
    "--no-save",
    "--no-audit",
    "--no-fund",
    "--prefix",
    join(root, ".tmp", "toolchain"),
    `pnpm@${pinned}`,
  ]);
  if (r.status !== 0 || !existsSync(local)) fail(`could not install pnpm ${pinned} with npm`);
  // Scripts in package.json call `pnpm` by name: put the private copy first on their PATH.
  process.env.PATH = `${dirname(local)}${delimiter}${process.env.PATH ?? ""}`;
  return local;
}

// Tests talk to real peers: socat PTYs, Mosquitto, Chromium. Install them when we may.
function ensureSystemPackages() {
  const wanted = [
    ["socat", "socat"],
    ["mosquitto", "mosquitto"],
    ["chromium", "chromium"],
  ].filter(
    ([bin]) =>
      !capture("sh", ["-c", `command -v ${bin} || test -x /usr/sbin/${bin} && echo /usr/sbin/${bin}`]),
  );
  if (wanted.length === 0) return;
  const names = wanted.map(([, pkg]) => pkg);
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !capture("sh", ["-c", "command -v apt-get"])) {
    fail(
      `the tests need these system packages: ${names.join(", ")}. Install them (Debian: sudo apt-get install ${names.join(" ")}) and run again.`,
    );
  }
  console.log(`Installing system packages for the tests: ${names.join(", ")} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (run("apt-get", ["update", "-qq"], { env }).status !== 0) fail("apt-get update failed");
  if (run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...names], { env }).status !== 0) {
    fail(`apt-get install ${names.join(" ")} failed`);
  }
}

const pnpm = ensurePnpm();
if (task === "test") ensureSystemPackages();
const install = run(pnpm, ["install", "--frozen-lockfile", "--reporter=append-only"]);
if (install.status !== 0) fail("pnpm install failed (see above)");

const scripts = {
  start: ["run", "--silent", "sesame", "up", ...rest],
  test: ["run", "check", ...rest],
  bench: ["run", "--silent", "bench:all", ...rest],
};
const args = scripts[task];
if (!args) fail(`unknown task '${task}' (start, test or bench)`);
// The kiosk and dashboard pages are built by Vite; the test command builds them in `check`.
if (task === "start") {
  const built = run(pnpm, ["run", "--silent", "build:ui"]);
  if (built.status !== 0) fail("building the kiosk and dashboard pages failed (see above)");
}
process.exit(run(pnpm, args).status);
