/**
 * A request refused, with the HTTP status that says why (400 bad input, 404 unknown, 409 conflict…)
 * and optional details for the caller. Thrown by the server's areas, answered by the HTTP API.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
