import { QrFrameDecoder } from "./decoder.js";
import { ImageFileError, readImageFile } from "./image-file.js";

export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Keeps one line per file even when a code holds line breaks (vCards, payment codes). */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f\\]/g, (c) => {
    if (c === "\\") return "\\\\";
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/**
 * `sesame decode-image FILE…`: prints `FILE: TEXT` for each PNG or JPEG whose QR code decodes,
 * and `FILE: no code found` (or what is wrong with the file) on stderr otherwise.
 * Exit code 0 when every file decoded, 1 otherwise (2 when no file was given).
 */
export async function runDecodeImageCommand(files: string[], io: CommandIo): Promise<number> {
  if (files.length === 0) {
    io.stderr.write("usage: sesame decode-image FILE… (PNG or JPEG)\n");
    return 2;
  }
  const decoder = new QrFrameDecoder();
  let failures = 0;
  for (const file of files) {
    try {
      const image = await readImageFile(file);
      const result = decoder.decodeRgba(image);
      if (result === undefined) {
        failures++;
        io.stderr.write(`${file}: no code found\n`);
      } else {
        io.stdout.write(`${file}: ${oneLine(result.text)}\n`);
      }
    } catch (error) {
      failures++;
      const message = error instanceof ImageFileError ? error.message : `unexpected error: ${String(error)}`;
      io.stderr.write(`${file}: ${message}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}
