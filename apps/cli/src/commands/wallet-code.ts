import { createNodeSigner } from "@sesame/ticket";
import { walletCode } from "@sesame/venue";
import QRCode from "qrcode";
import { parse, parseInteger, parseTime, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";
import { loadIssuerSeed, loadWallet } from "../venue-context.js";

export const WALLET_CODE_USAGE =
  "sesame wallet code --venue DIR --ticket ID [--generation G] [--at ISO-TIME] [--qr] [--png FILE]";

/** QR error correction for the phone screen: M fits a 320-character code in version 11 (61×61). */
export const QR_ERROR_CORRECTION = "M";

export async function walletCodeCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    {
      venue: { type: "string" },
      ticket: { type: "string" },
      generation: { type: "string" },
      at: { type: "string" },
      qr: { type: "boolean" },
      png: { type: "string" },
    },
    WALLET_CODE_USAGE,
  );
  const dir = requireString(values.venue, "--venue DIR", WALLET_CODE_USAGE);
  const ticketId = parseInteger(
    requireString(values.ticket, "--ticket ID", WALLET_CODE_USAGE),
    "--ticket",
    0,
    0xffffffff,
  );
  if (ticketId === undefined) throw new CliError("missing --ticket");
  const generation = parseInteger(values.generation, "--generation", 1, 0xffff);
  const at = parseTime(values.at, "--at") ?? io.now();
  const entry = loadWallet(dir, ticketId, generation);
  const code = walletCode(entry, loadIssuerSeed(dir, entry.body.keyId), at, createNodeSigner());
  io.stdout.write(`${code}\n`);
  if (values.qr) {
    io.stdout.write(
      await QRCode.toString(code, {
        type: "terminal",
        small: true,
        errorCorrectionLevel: QR_ERROR_CORRECTION,
      }),
    );
  }
  if (values.png) {
    await QRCode.toFile(values.png, code, { errorCorrectionLevel: QR_ERROR_CORRECTION, margin: 4, scale: 6 });
    io.stderr.write(`QR code written to ${values.png}\n`);
  }
  return 0;
}
