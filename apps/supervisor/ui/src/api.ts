/*
 * The dashboard's calls to the sync-server: same origin, session cookie, JSON. Every call carries
 * the x-sesame header the server requires of cookie-authenticated changes (CSRF protection).
 * Paths are relative, so the dashboard also works under a path prefix.
 */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Called when any call answers 401: the session is gone, show the sign-in form. */
let onSignedOut: (() => void) | undefined;
export function whenSignedOut(handler: (() => void) | undefined): void {
  onSignedOut = handler;
}

export async function call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`api/${path}`, {
      method,
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        "x-sesame": "1",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new HttpError(0, "network");
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const message = (json as { error?: unknown } | undefined)?.error;
    const retry = Number(response.headers.get("retry-after"));
    // A wrong password is a 401 too, but it is the sign-in form's to show.
    if (response.status === 401 && !(method === "POST" && path === "session")) onSignedOut?.();
    throw new HttpError(
      response.status,
      typeof message === "string" ? message : `HTTP ${response.status}`,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  return json as T;
}
