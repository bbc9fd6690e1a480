import { runSimLaneCommand } from "@sesame/hardware-sim";
import { runDecodeImageCommand } from "@sesame/scanner";
import type { Io } from "../io.js";

export const SIM_LANE_USAGE =
  "sesame sim lane [--listen tcp://127.0.0.1:PORT | --pty PATH] [--address N] [--scbk HEX]";
export const DECODE_IMAGE_USAGE = "sesame decode-image FILE… (PNG or JPEG)";

/** A simulated OSDP lane controller for venue techs (hardware-sim owns the command). */
export function simLane(argv: string[], io: Io): Promise<number> {
  const stop = new AbortController();
  void io.interrupted.then(() => stop.abort());
  return runSimLaneCommand(argv, { stdout: io.stdout, stdin: io.stdin, signal: stop.signal });
}

/** Decodes the QR codes in image files (the scanner package's camera decoder). */
export function decodeImage(argv: string[], io: Io): Promise<number> {
  return runDecodeImageCommand(argv, { stdout: io.stdout, stderr: io.stderr });
}
