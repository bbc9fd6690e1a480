import { spawn } from "node:child_process";
import { join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const sesameBin = join(root, "apps", "cli", "bin", "sesame.mjs");

/** Runs the real `sesame` executable, as a tech would, feeding `input` on stdin. */
function sesame(
  args: string[],
  input = "",
  timeoutMs = 30_000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sesameBin, ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      // The simulator says where to connect once it listens; then the tech quits.
      if (input && /connect to/i.test(out)) child.stdin.end(input);
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`sesame ${args.join(" ")} did not finish: ${out} ${err}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (!input) child.stdin.end();
  });
}

describe("sesame commands for venue techs", () => {
  const dir = makeTempDir();
  afterAll(() => dir.remove());

  it("wallet code --png, then decode-image reads the same code back", async () => {
    const venue = join(dir.path, "venue");
    expect((await sesame(["venue", "demo", "--out", venue, "--seed", "hw", "--spectators", "50"])).code).toBe(
      0,
    );
    const png = join(dir.path, "code.png");
    const made = await sesame(["wallet", "code", "--venue", venue, "--ticket", "100001", "--png", png]);
    expect(made.code).toBe(0);
    const decoded = await sesame(["decode-image", png, join(dir.path, "missing.png")]);
    expect(decoded.out).toContain(made.out.trim());
    expect(decoded.err).toMatch(/missing\.png/);
    expect(decoded.code).toBe(1);
  });

  it("sim lane listens on TCP, says where, and stops on quit", async () => {
    const r = await sesame(["sim", "lane", "--listen", "tcp://127.0.0.1:0"], "quit\n");
    expect(r.out).toMatch(/tcp:\/\/127\.0\.0\.1:\d+/);
    expect(r.code).toBe(0);
  });

  it("sim lane refuses bad flags with its usage", async () => {
    const r = await sesame(["sim", "lane", "--address", "banana"]);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(/usage: sesame sim lane/);
  });
});
