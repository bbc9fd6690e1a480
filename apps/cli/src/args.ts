import { parseArgs } from "node:util";
import { CliError } from "./cli-error.js";

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** node:util parseArgs with errors a person can act on. */
export function parse<T extends OptionSpec>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify.*$/s, "") : String(error);
    throw new CliError(`${message}\n\nusage: ${usage}`);
  }
}

export function requireString(
  value: string | boolean | string[] | boolean[] | undefined,
  flag: string,
  usage: string,
): string {
  if (typeof value !== "string" || value === "") throw new CliError(`missing ${flag}\n\nusage: ${usage}`);
  return value;
}

export function parseInteger(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new CliError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new CliError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseTime(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new CliError(
      `${flag} must be an ISO time such as 2026-07-26T19:30:00+02:00, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}
