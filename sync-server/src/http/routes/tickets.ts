import { csvObjects } from "@sesame/venue";
import { ApiError } from "../../errors.js";
import { asObject, contentType, MAX_IMPORT_BODY, readBody, readJson, send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/* Tickets, for the ticketing platform: import (JSON or CSV), look-up, resale, transfer, cancellation. */

const ticketIdOf = (text: string | undefined): number => {
  if (!text || !/^\d{1,10}$/.test(text)) throw new ApiError(400, "ticket id must be a whole number");
  return Number(text);
};

export const ticketRoutes: RouteModule = async (
  { server, require },
  { req, res, method, path, parts, caller },
) => {
  if (method === "POST" && path === "/api/tickets/import") {
    const who = require(caller, ["admin"]);
    const type = contentType(req);
    const body = await readBody(req, MAX_IMPORT_BODY);
    let rows: unknown[];
    let offset = 1;
    if (type === "text/csv") {
      const objects = csvObjects(body.toString("utf8"));
      if (typeof objects === "string") throw new ApiError(400, `CSV: ${objects}`);
      rows = objects;
      offset = 2;
    } else if (type === "application/json" || type === "") {
      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch (error) {
        throw new ApiError(400, `body is not JSON: ${(error as Error).message}`);
      }
      const list = Array.isArray(json) ? json : (json as { tickets?: unknown } | null)?.tickets;
      if (!Array.isArray(list))
        throw new ApiError(400, 'JSON import: an array of tickets or {"tickets": [...]}');
      rows = list;
    } else throw new ApiError(415, "import accepts application/json or text/csv");
    send(res, 200, server.importTickets(rows, offset, who.name));
    return true;
  }
  if (parts[0] !== "api" || parts[1] !== "tickets" || parts[2] === undefined) return false;
  const id = ticketIdOf(parts[2]);
  if (method === "GET" && parts.length === 3) {
    require(caller, READ_ROLES);
    const ticket = server.store.ticket(id);
    if (!ticket) throw new ApiError(404, `ticket ${id} does not exist`);
    send(res, 200, { ticket, revocations: server.store.revocationsOf(id) });
    return true;
  }
  if (method === "POST" && (parts[3] === "resale" || parts[3] === "transfer")) {
    const who = require(caller, ["admin"]);
    const body = asObject(await readJson(req));
    send(res, 200, server.reassign(id, parts[3], body.holder, body.devicePublicKey, who.name));
    return true;
  }
  if (method === "POST" && parts[3] === "cancel") {
    require(caller, ["admin"]);
    send(res, 200, server.cancel(id));
    return true;
  }
  return false;
};
