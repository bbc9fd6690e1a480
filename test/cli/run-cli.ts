import { readFileSync } from "node:fs";
import { PassThrough } from "node:stream";
import { runCli } from "@sesame/cli";
import { captureOutput } from "@sesame/testing";

/** The demo venue's doors and the moment the CLI tests pretend it is. */
export const DOORS = "2026-07-26T17:00:00.000Z";
export const AT = "2026-07-26T18:00:00.000Z";

/** Runs `sesame …` in this process with captured output, at the fixed time `at`. */
export async function sesame(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { stdout, stderr, out, err } = captureOutput();
  const code = await runCli(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    now: () => Date.parse(AT),
    interrupted: new Promise(() => {}),
  });
  return { code, out: out(), err: err() };
}

/** A venue directory's CSV (the demo's values hold no commas). */
export function csv(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const names = (header ?? "").split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i] ?? `${i}`, v])));
}
