import { type GateKeyRequest, MAX_REPLAY_ITEMS, parseGateKeyRequest } from "@sesame/sync";
import { ApiError } from "../../errors.js";
import { venueGate } from "../../gates/provisioning.js";
import { asObject, intParam, MAX_SMALL_BODY, readJson, send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/* Gates: provisioning, quarantine, their state, and what they download (the signed bundle, the feed). */

export const gateRoutes: RouteModule = async (
  { server, require, gateView },
  { req, res, url, method, path, parts, caller },
) => {
  const store = server.store;
  if (method === "POST" && parts[1] === "gates" && parts[3] === "provision" && parts.length === 4) {
    const gateId = parts[2] ?? "";
    // Any other role asking is the insider the rule is for: refused, logged and alerted.
    const who = require(caller, ["admin", "supervisor", "tech", "gate"]);
    if (who.role !== "admin") throw server.refuseProvisioning(gateId, who);
    const body = asObject(await readJson(req, MAX_SMALL_BODY));
    if (body.force !== undefined && typeof body.force !== "boolean")
      throw new ApiError(400, "force must be true or false");
    venueGate(store, gateId);
    // The gate made its key pair: only its public key and the proof that it holds the private key come.
    let key: GateKeyRequest;
    try {
      key = parseGateKeyRequest({ publicKey: body.publicKey, proof: body.proof }, "body");
    } catch (error) {
      throw new ApiError(
        400,
        `${error instanceof Error ? error.message : String(error)}: the gate's key request (its provisioning-request.json) gives publicKey and proof`,
      );
    }
    // Who provisioned is recorded with the gate and beside the previous key it revokes in the gate list.
    send(
      res,
      200,
      server.provisionGate(gateId, key, { by: who.name.slice(0, 64), force: body.force === true }),
    );
    return true;
  }
  if (method === "POST" && parts[1] === "gates" && parts[3] === "quarantine" && parts.length === 4) {
    // A security act, like acknowledging a security alert: the supervisors'.
    const who = require(caller, ["supervisor"]);
    const body = asObject(await readJson(req, MAX_SMALL_BODY));
    send(res, 200, { gate: gateView(server.quarantineGate(parts[2] ?? "", who, body.reason)) });
    return true;
  }
  if (method === "GET" && path === "/api/gates") {
    require(caller, READ_ROLES);
    send(res, 200, { gates: store.gates().map(gateView), now: server.now() });
    return true;
  }
  if (method === "GET" && path === "/api/gate/bundle") {
    require(caller, ["gate", "admin", "tech"]);
    const bundle = server.signedBundle();
    res.writeHead(200, {
      "content-type": "application/json",
      "sesame-bundle-signature": bundle.signature,
      "sesame-feed-sequence": String(bundle.feedSequence),
      "cache-control": "no-store",
    });
    res.end(bundle.bytes);
    return true;
  }
  if (method === "GET" && path === "/api/feed") {
    require(caller, ["gate", "admin", "tech"]);
    const from = intParam(url, "from", 1, 1, Number.MAX_SAFE_INTEGER);
    if (from <= store.feedBase()) {
      send(res, 409, {
        error: "the feed before this point is only in the snapshot",
        snapshot: "/api/gate/bundle",
        feedBase: store.feedBase(),
      });
      return true;
    }
    const limit = intParam(url, "limit", MAX_REPLAY_ITEMS, 1, MAX_REPLAY_ITEMS);
    send(res, 200, { feedSequence: store.feedSequence(), changes: store.changesFrom(from, limit) });
    return true;
  }
  return false;
};
