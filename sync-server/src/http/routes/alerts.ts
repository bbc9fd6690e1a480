import { ApiError } from "../../errors.js";
import { asObject, intParam, MAX_SMALL_BODY, readJson, send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/* Alerts: the list and its open count, acknowledgement by a supervisor or a tech. */

export const alertRoutes: RouteModule = async (
  { server, require },
  { req, res, url, method, path, parts, caller },
) => {
  if (method === "GET" && path === "/api/alerts") {
    require(caller, READ_ROLES);
    send(res, 200, {
      alerts: server.store.alerts(intParam(url, "limit", 100, 1, 1000)),
      open: server.store.openAlertCount(),
    });
    return true;
  }
  if (method === "POST" && parts[1] === "alerts" && parts[3] === "ack" && parts.length === 4) {
    const who = require(caller, ["supervisor", "tech"]);
    const id = parts[2] ?? "";
    if (!/^\d{1,12}$/.test(id)) throw new ApiError(400, "alert id must be a whole number");
    const body = asObject(await readJson(req, MAX_SMALL_BODY));
    send(res, 200, { alert: server.acknowledgeAlert(Number(id), who, body.note) });
    return true;
  }
  return false;
};
