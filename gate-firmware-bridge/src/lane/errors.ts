export type LaneErrorCode = "BAD_ARGUMENT" | "CONTROLLER_OFFLINE" | "FIRE_ALARM" | "UNLOCK_FAILED" | "CLOSED";

export class LaneError extends Error {
  override readonly name = "LaneError";
  constructor(
    readonly code: LaneErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
