import type { Command, CommandType } from "@sesame/sync";
import type { Venue } from "@sesame/venue";
import { controlCharacter } from "@sesame/venue";
import { ApiError } from "../errors.js";
import type { GateRecord } from "../gates/repository.js";

/*
 * Supervisor commands: what the API accepts (every field checked, a specific reason when refused),
 * whom a command is for, and the venue-wide case. Pure: the server stores, signs and sends them.
 */

export const COMMAND_TYPES: readonly CommandType[] = [
  "free-passage",
  "end-free-passage",
  "lock-lane",
  "unlock-lane",
  "message",
];

/** A command as the API receives it: every field unchecked. */
export interface CommandInput {
  readonly type: unknown;
  readonly gate?: unknown;
  readonly entrance?: unknown;
  readonly lane?: unknown;
  readonly text?: unknown;
  readonly ttlSeconds?: unknown;
}

/**
 * One command for a gate or an entrance, or — `venue: true`, the emergency case — one per
 * entrance, since the protocol addresses gates and entrances (every gate listens to its entrance's
 * topic, so none is missed).
 */
export function commandInputs(input: CommandInput & { venue?: unknown }, venue: Venue): CommandInput[] {
  if (input.venue === undefined) return [input];
  if (input.venue !== true) throw new ApiError(400, "venue must be true (or absent)");
  if (input.gate !== undefined || input.entrance !== undefined)
    throw new ApiError(400, "give a gate, an entrance or venue: true, not several");
  if (venue.entrances.length === 0) throw new ApiError(409, "the venue has no entrance");
  return venue.entrances.map((e) => ({ ...input, entrance: e.id }));
}

export interface CommandContext {
  readonly venue: Venue;
  gateKnown(gateId: string): boolean;
  readonly now: number;
  readonly defaultTtlMs: number;
  /** The new command's id. */
  readonly id: string;
}

/** A checked command from the API's input, issued by `by`. */
export function buildCommand(input: CommandInput, by: string, ctx: CommandContext): Command {
  if (typeof input.type !== "string" || !COMMAND_TYPES.includes(input.type as CommandType))
    throw new ApiError(400, `type must be one of ${COMMAND_TYPES.join(", ")}`);
  let target: Command["target"];
  if (input.gate !== undefined && input.entrance !== undefined)
    throw new ApiError(400, "give a gate or an entrance, not both");
  if (input.gate !== undefined) {
    if (typeof input.gate !== "string" || input.gate.length > 64)
      throw new ApiError(400, "gate must be a gate id");
    if (!ctx.gateKnown(input.gate)) throw new ApiError(404, `no gate ${JSON.stringify(input.gate)}`);
    target = { gate: input.gate };
  } else if (input.entrance !== undefined) {
    if (
      !(typeof input.entrance === "number" && Number.isInteger(input.entrance)) &&
      !(typeof input.entrance === "string" && input.entrance.length <= 64)
    )
      throw new ApiError(400, "entrance must be an entrance id or code");
    const entrance = ctx.venue.entrances.find((e) => e.id === input.entrance || e.code === input.entrance);
    if (!entrance) throw new ApiError(404, `no entrance ${JSON.stringify(input.entrance)}`);
    target = { entrance: entrance.id };
  } else throw new ApiError(400, "give a gate or an entrance");
  if (
    input.lane !== undefined &&
    (typeof input.lane !== "number" || !Number.isInteger(input.lane) || input.lane < 0 || input.lane > 255)
  )
    throw new ApiError(400, "lane must be a whole number 0–255");
  if (
    input.type === "message" &&
    (typeof input.text !== "string" || input.text.trim() === "" || input.text.length > 500)
  )
    throw new ApiError(400, "a message needs a text of 1 to 500 characters");
  const control = typeof input.text === "string" ? controlCharacter(input.text, true) : undefined;
  if (input.type === "message" && control)
    throw new ApiError(
      400,
      `a message must not contain control characters other than line breaks (${control})`,
    );
  const ttl = input.ttlSeconds === undefined ? ctx.defaultTtlMs / 1000 : input.ttlSeconds;
  if (typeof ttl !== "number" || ttl < 1 || ttl > 3600)
    throw new ApiError(400, "ttlSeconds must be between 1 and 3600");
  const now = ctx.now;
  const command: Command = {
    id: ctx.id,
    type: input.type as CommandType,
    target,
    ...(typeof input.lane === "number" ? { lane: input.lane } : {}),
    ...(typeof input.text === "string" && input.type === "message" ? { text: input.text.trim() } : {}),
    by,
    issuedAt: now,
    expiresAt: now + Math.round(ttl * 1000),
  };
  return command;
}

/** The gates a command is for: its gate, or the provisioned gates of its entrance. */
export function commandTargets(command: Command, gates: readonly GateRecord[]): string[] {
  const target = command.target;
  if ("gate" in target) return [target.gate];
  return gates.filter((g) => g.entrance === target.entrance && g.publicKey !== null).map((g) => g.gateId);
}
