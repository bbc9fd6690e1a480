import { isDeepStrictEqual } from "node:util";
import {
  type Command,
  type CommandMessage,
  type CommandType,
  checkSupervisorPart,
  FieldError,
  opensLanes,
  validateCommand,
} from "@sesame/sync";
import type { Ed25519Verifier } from "@sesame/ticket";
import type { SignedSupervisorCertificate, Venue } from "@sesame/venue";
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

// ---------------------------------------------------------------------------------------------
// Commands that open lanes: made and signed in the supervisor's browser (docs/design.md §9)

/** At most this many signed commands in one request (one per entrance for the whole venue). */
export const MAX_SIGNED_COMMANDS = 64;

/** How far a supervisor's browser clock may be from the server's when it dates a command. */
export const SUPERVISOR_CLOCK_SKEW_MS = 120_000;

/** A lane-opening command refused for its supervisor's signature: answered 403, logged and alerted. */
export class SupervisorSignatureRefused extends ApiError {
  constructor(detail: string) {
    super(403, `${detail} (refusal recorded and alerted)`);
  }
}

export interface SignedCommand {
  readonly command: Command;
  /** The exact text the supervisor signed; the operations key signs it too. */
  readonly json: string;
  readonly supervisor: { readonly sig: string; readonly certificate: SignedSupervisorCertificate };
}

/**
 * The commands a supervisor's browser made and signed (`signed`: [{command: JSON text, sig}], with
 * the root's `certificate` of the supervisor's key), each checked as if the server had built it
 * (buildCommand's rules), dated within the clock skew, naming the caller, then signed by a key the
 * root certified for this supervisor. Pure: the server stores, countersigns and sends them.
 */
export function signedCommands(
  input: { readonly type?: unknown; readonly signed?: unknown; readonly certificate?: unknown },
  by: string,
  ctx: Omit<CommandContext, "id" | "defaultTtlMs"> & {
    readonly rootKey: Uint8Array;
    readonly verifier: Ed25519Verifier;
  },
): SignedCommand[] {
  const type = input.type as CommandType;
  if (!Array.isArray(input.signed) || input.signed.length === 0 || input.signed.length > MAX_SIGNED_COMMANDS)
    throw new ApiError(
      400,
      `a ${type} command opens lanes: the supervisor's browser signs it (signed: 1 to ${MAX_SIGNED_COMMANDS} {command, sig}, with the supervisor's certificate); enrol a key on the dashboard`,
    );
  if (input.certificate === undefined)
    throw new ApiError(400, "a signed command needs the supervisor's certificate (certificate)");
  return input.signed.map((entry: unknown, i) => {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof e.command !== "string" || e.command.length > 4096 || typeof e.sig !== "string")
      throw new ApiError(400, `signed[${i}] must be {command: the command's JSON text, sig: hex}`);
    let command: Command;
    try {
      command = validateCommand(JSON.parse(e.command));
    } catch (error) {
      const detail = error instanceof FieldError ? error.message : `not JSON: ${(error as Error).message}`;
      throw new ApiError(400, `signed[${i}].command: ${detail}`);
    }
    if (command.type !== type || !opensLanes(command.type))
      throw new ApiError(400, `signed[${i}] is a ${command.type} command, not ${String(type)}`);
    if (command.by !== by)
      throw new SupervisorSignatureRefused(
        `signed[${i}] names ${command.by}, but ${by} sends it: a supervisor sends only their own commands`,
      );
    if (Math.abs(command.issuedAt - ctx.now) > SUPERVISOR_CLOCK_SKEW_MS)
      throw new ApiError(
        400,
        `signed[${i}] is dated ${new Date(command.issuedAt).toISOString()}, more than ${SUPERVISOR_CLOCK_SKEW_MS / 1000} s from the server's clock: set this computer's clock`,
      );
    // The same rules as a command the server builds, and nothing more than what they keep.
    const target = command.target;
    const rebuilt = buildCommand(
      {
        type: command.type,
        ...("gate" in target ? { gate: target.gate } : { entrance: target.entrance }),
        ...(command.lane === undefined ? {} : { lane: command.lane }),
        ttlSeconds: (command.expiresAt - command.issuedAt) / 1000,
      },
      by,
      { ...ctx, now: command.issuedAt, defaultTtlMs: 0, id: command.id },
    );
    if (!isDeepStrictEqual(rebuilt, command))
      throw new ApiError(400, `signed[${i}].command holds fields a ${type} command does not have`);
    const message: CommandMessage = {
      command: e.command,
      sig: "",
      supervisor: { sig: e.sig, certificate: input.certificate },
    };
    const check = checkSupervisorPart(command, message, {
      rootKey: ctx.rootKey,
      verifier: ctx.verifier,
      venueId: ctx.venue.id,
      now: ctx.now,
    });
    if (!check.ok) throw new SupervisorSignatureRefused(`${check.reason}: ${check.detail}`);
    if (!check.value) throw new ApiError(400, `a ${type} command needs no supervisor's signature`);
    return { command, json: e.command, supervisor: { sig: e.sig, certificate: check.value } };
  });
}
