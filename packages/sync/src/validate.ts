/*
 * Small structural validators for untrusted JSON: each failure names the field and what was wrong,
 * so that a rejection in the log says exactly why (docs/sync-protocol.md §6).
 */

export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function obj(value: unknown, field: string): Record<string, unknown> {
  if (!isObject(value)) throw new FieldError(field, "must be an object");
  return value;
}

export function str(value: unknown, field: string, max = 256, pattern?: RegExp): string {
  if (typeof value !== "string") throw new FieldError(field, "must be a string");
  if (value.length > max) throw new FieldError(field, `longer than ${max} characters`);
  if (pattern && !pattern.test(value)) throw new FieldError(field, `does not match ${pattern}`);
  return value;
}

export function optStr(value: unknown, field: string, max = 256, pattern?: RegExp): string | undefined {
  return value === undefined ? undefined : str(value, field, max, pattern);
}

export function int(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value))
    throw new FieldError(field, "must be a whole number");
  if (value < min || value > max) throw new FieldError(field, `must be between ${min} and ${max}`);
  return value;
}

export function optInt(
  value: unknown,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  return value === undefined ? undefined : int(value, field, min, max);
}

export function num(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new FieldError(field, "must be a number");
  return value;
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new FieldError(field, "must be true or false");
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value))
    throw new FieldError(
      field,
      `must be one of ${allowed.join(", ")}, got ${(JSON.stringify(value) ?? String(value)).slice(0, 40)}`,
    );
  return value as T;
}

export function arr(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) throw new FieldError(field, "must be an array");
  if (value.length > max) throw new FieldError(field, `more than ${max} items`);
  return value;
}

export const HEX_32 = /^[0-9a-f]{64}$/i;
export const HEX_64 = /^[0-9a-f]{128}$/i;
