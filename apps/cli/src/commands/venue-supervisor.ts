import { hashOverrideCode, OVERRIDE_CODE, SUPERVISOR_ID } from "@sesame/venue";
import { parse, requireString } from "../args.js";
import { CliError } from "../cli-error.js";
import type { Io } from "../io.js";

export const VENUE_SUPERVISOR_USAGE =
  "sesame venue supervisor --id ID --name NAME   (reads the override code, 8 to 12 digits, on stdin)";

/** The first line of stdin: a code typed on the command line would stay in the shell's history. */
async function firstLine(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stdin) {
    text += String(chunk);
    if (text.includes("\n") || text.length > 100) break;
  }
  return (text.split("\n")[0] ?? "").trim();
}

/**
 * Prints a supervisor's entry for venue.json's `supervisors` (docs/venue-files.md): their override
 * code as a salted scrypt hash, never the code itself.
 */
export async function venueSupervisor(argv: string[], io: Io): Promise<number> {
  const { values } = parse(
    argv,
    { id: { type: "string" }, name: { type: "string" } },
    VENUE_SUPERVISOR_USAGE,
  );
  const id = requireString(values.id, "--id ID", VENUE_SUPERVISOR_USAGE);
  const name = requireString(values.name, "--name NAME", VENUE_SUPERVISOR_USAGE).trim();
  if (!SUPERVISOR_ID.test(id)) throw new CliError("--id must be 1 to 32 letters, digits, - or _");
  if (name === "" || name.length > 100) throw new CliError("--name must be 1 to 100 characters");
  const code = await firstLine(io.stdin);
  if (!OVERRIDE_CODE.test(code))
    throw new CliError("the override code (on stdin) must be 8 to 12 digits; 10 or more is recommended");
  io.stdout.write(`${JSON.stringify({ id, name, overrideCode: hashOverrideCode(code) })}\n`);
  return 0;
}
