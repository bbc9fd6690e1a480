import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  createNodeSigner,
  createNodeVerifier,
  STEP_SECONDS,
  timeStep,
  verifyCredentialText,
} from "@sesame/ticket";
import { readVenue, readWallets, walletCode } from "@sesame/venue";
import QRCode from "qrcode";
import { parse } from "../args.js";
import type { Io } from "../io.js";
import { loadIssuerSeed, loadTrust } from "../venue-context.js";
import { venueDemo } from "./venue-demo.js";
import { QR_ERROR_CORRECTION } from "./wallet-code.js";

export const UP_USAGE = "sesame up [--venue DIR] [--once]";

/**
 * The README's start command. For now: makes (or reuses) the demo venue, prints it, and shows a
 * holder's live rotating code as the phone would, verified as a gate would, every 15 s until Ctrl-C.
 */
export async function up(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { venue: { type: "string" }, once: { type: "boolean" } }, UP_USAGE);
  const dir = values.venue ?? join(process.cwd(), ".tmp", "demo-venue");
  if (!existsSync(join(dir, "venue.json"))) {
    const code = await venueDemo(["--out", dir, "--seed", "sesame-demo", "--force"], io);
    if (code !== 0) return code;
  } else {
    io.stdout.write(`Using the demo venue in ${dir} (delete it for a fresh one)\n`);
  }
  const venue = readVenue(dir);
  const trust = loadTrust(dir, venue);
  const entry = readWallets(dir).find((w) => w.deviceSeed && w.body.sessions.includes(1));
  if (!entry) {
    io.stderr.write("the demo venue has no mobile ticket for session 1\n");
    return 1;
  }
  const issuerSeed = loadIssuerSeed(dir, entry.body.keyId);
  const signer = createNodeSigner();
  const verifier = createNodeVerifier();
  io.stdout.write(
    `\n${venue.name} — ${venue.sessions.map((s) => `${s.code} doors ${s.doorsOpen}`).join(", ")}\n`,
  );
  io.stdout.write(
    `Live code of ticket ${entry.body.ticketId} (seat ${entry.body.seat || "standing"}), new every ${STEP_SECONDS} s. Ctrl-C stops.\n\n`,
  );
  let stopped = false;
  void io.interrupted.then(() => {
    stopped = true;
  });
  while (!stopped) {
    const now = io.now();
    const code = walletCode(entry, issuerSeed, now, signer);
    const verdict = verifyCredentialText(code, {
      issuerKeys: trust.keys,
      nowMs: now,
      issuerVerifier: verifier,
    });
    io.stdout.write(
      await QRCode.toString(code, {
        type: "terminal",
        small: true,
        errorCorrectionLevel: QR_ERROR_CORRECTION,
      }),
    );
    io.stdout.write(
      `${new Date(now).toISOString()}  ${code.length} characters  gate says: ${verdict.valid ? "VALID" : verdict.reason}\n${code}\n\n`,
    );
    if (values.once) break;
    const nextStepMs = (timeStep(now) + 1) * STEP_SECONDS * 1000;
    await Promise.race([new Promise((r) => setTimeout(r, nextStepMs - now + 5)), io.interrupted]);
  }
  return 0;
}
