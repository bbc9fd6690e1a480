import { asObject, readJson, send } from "../request.js";
import type { RouteModule } from "./route.js";

/*
 * Issuer keys and the trust list: list (never the seeds), and take a new trust list that the venue
 * root signed offline (`sesame root trust-list`). The server signs none: it holds no root key.
 */

export const keyRoutes: RouteModule = async ({ server, require }, { req, res, method, path, caller }) => {
  if (method === "GET" && path === "/api/keys") {
    require(caller, ["admin", "tech"]);
    send(res, 200, {
      trustList: server.store.trustList(),
      keys: server.store.issuerKeys(),
    });
    return true;
  }
  if (method === "POST" && path === "/api/keys/trust-list") {
    const admin = require(caller, ["admin"]);
    const body = asObject(await readJson(req));
    send(res, 200, server.acceptTrustList(body, `admin ${admin.name}`));
    return true;
  }
  return false;
};
