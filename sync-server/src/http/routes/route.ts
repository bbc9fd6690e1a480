import type { IncomingMessage, ServerResponse } from "node:http";
import type { SyncServer } from "../../server.js";
import type { GateRecord } from "../../store.js";

/* What every route module of the HTTP API gets: the request, its caller, and the server. */

export type Role = "admin" | "supervisor" | "tech" | "gate";

export interface Caller {
  readonly role: Role;
  readonly name: string;
  /** Set when the caller is a signed-in dashboard user (cookie): CSRF rules apply. */
  readonly sessionId?: string;
}

export const READ_ROLES: readonly Role[] = ["admin", "supervisor", "tech"];

export interface ApiRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly method: string;
  /** The path without trailing slashes, and its segments ("api", "tickets", "42", …). */
  readonly path: string;
  readonly parts: readonly string[];
  readonly caller: Caller | undefined;
}

export interface ApiContext {
  readonly server: SyncServer;
  /** The caller, if it holds one of the roles (else 401 or 403). */
  require(caller: Caller | undefined, roles: readonly Role[]): Caller;
  /** A gate as the API shows it (no secrets, with its lane count). */
  gateView(g: GateRecord): GateView;
}

/** A gate as the API and the dashboard see it. */
export interface GateView {
  readonly gateId: string;
  readonly entrance: number;
  readonly lanes: number | null;
  readonly provisioned: boolean;
  readonly provisionedAt: number | null;
  /** Who provisioned the gate ("set-up" when the venue was set up), when, and whether forced while online. */
  readonly provisioning: GateRecord["provisioning"];
  readonly status: GateRecord["status"];
  readonly statusAt: number | null;
  readonly ackedGateSeq: number;
  readonly heartbeat: GateRecord["heartbeat"];
  /** Who quarantined the gate, when and why; null when it is not quarantined. */
  readonly quarantine: GateRecord["quarantine"];
}

/** Answers the request and returns true, or returns false when the path is not this module's. */
export type RouteModule = (ctx: ApiContext, r: ApiRequest) => Promise<boolean> | boolean;
