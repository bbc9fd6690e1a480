import { ApiError } from "../../errors.js";
import { asObject, readJson, send } from "../request.js";
import type { RouteModule } from "./route.js";

/* Issuer keys (public halves) and the trust list: list, add a key made at the issuer, revoke. */

export const keyRoutes: RouteModule = async (
  { server, require },
  { req, res, method, path, parts, caller },
) => {
  if (method === "GET" && path === "/api/keys") {
    require(caller, ["admin", "tech"]);
    send(res, 200, {
      trustList: server.store.trustList(),
      keys: server.store.issuerKeys(),
    });
    return true;
  }
  if (method === "POST" && path === "/api/keys/rotate") {
    require(caller, ["admin"]);
    const body = asObject(await readJson(req));
    send(res, 200, server.rotateKey(body.validDays, body.keyId, body.publicKey));
    return true;
  }
  if (method === "POST" && parts[1] === "keys" && parts[3] === "revoke" && parts.length === 4) {
    require(caller, ["admin"]);
    // Digits only: Number() would also read "0x1", "1e0" or " 1" as key 1.
    if (!/^\d{1,5}$/.test(parts[2] ?? "")) throw new ApiError(400, "key id must be a whole number");
    send(res, 200, server.revokeKey(Number(parts[2])));
    return true;
  }
  return false;
};
