import { ApiError } from "../../errors.js";
import { send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/*
 * Tickets: read-only look-up for the dashboard. The ticketing platform's operations (import,
 * resale, transfer, cancellation) moved to the issuer (docs/issuer.md), which signs every change;
 * their old paths answer 410 Gone with where they went.
 */

const ticketIdOf = (text: string | undefined): number => {
  if (!text || !/^\d{1,10}$/.test(text)) throw new ApiError(400, "ticket id must be a whole number");
  return Number(text);
};

export const ticketRoutes: RouteModule = async (
  { server, require },
  { res, method, path, parts, caller },
) => {
  const moved = (what: string, to: string) => {
    const url = server.issuerUrl();
    const where = to.replace("ISSUER", url ?? "<issuer>").replace(":venue", server.venue.id);
    throw new ApiError(
      410,
      `${what} moved to the issuer: ${where}${url ? "" : " (`sesame issuer`)"} (docs/issuer.md)`,
    );
  };
  if (method === "POST" && path === "/api/tickets/import")
    moved("ticket import", "POST ISSUER/venues/:venue/tickets");
  if (parts[0] !== "api" || parts[1] !== "tickets" || parts[2] === undefined) return false;
  if (method === "POST" && parts.length === 4 && ["resale", "transfer", "cancel"].includes(parts[3] ?? ""))
    moved(`ticket ${parts[3]}`, `POST ISSUER/venues/:venue/tickets/${parts[2]}/${parts[3]}`);
  const id = ticketIdOf(parts[2]);
  if (method === "GET" && parts.length === 3) {
    require(caller, READ_ROLES);
    const ticket = server.store.ticket(id);
    if (!ticket) throw new ApiError(404, `ticket ${id} does not exist`);
    send(res, 200, { ticket, revocations: server.store.revocationsOf(id) });
    return true;
  }
  return false;
};
