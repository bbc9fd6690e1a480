export type ControlPanelErrorCode =
  | "UNKNOWN_PERIPHERAL"
  | "OFFLINE"
  | "TIMEOUT"
  | "NAK"
  | "SECURE_CHANNEL"
  | "BAD_REPLY"
  | "STOPPED";

/** Why a command to a peripheral did not go through; `code` is stable, the message is for people. */
export class ControlPanelError extends Error {
  override readonly name = "ControlPanelError";
  constructor(
    readonly code: ControlPanelErrorCode,
    message: string,
    readonly address?: number,
    readonly nak?: number,
  ) {
    super(message);
  }
}
