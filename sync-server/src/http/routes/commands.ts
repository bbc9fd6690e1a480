import type { Command } from "@sesame/sync";
import type { CommandView } from "../../contract.js";
import { ApiError } from "../../errors.js";
import type { SyncServer } from "../../server.js";
import { asObject, intParam, MAX_SMALL_BODY, readJson, send } from "../request.js";
import { READ_ROLES, type RouteModule } from "./route.js";

/* Commands to gates: sent by a supervisor, read (with acknowledgements and targets) by any reader. */

/** A command just sent, as the API and the event stream show it. */
export const commandView = (server: SyncServer, command: Command): CommandView => ({
  command,
  acks: [],
  targets: server.commandTargets(command),
});

export const commandRoutes: RouteModule = async (
  { server, require },
  { req, res, url, method, path, parts, caller },
) => {
  if (method === "POST" && path === "/api/commands") {
    const who = require(caller, ["supervisor"]);
    const body = asObject(await readJson(req, MAX_SMALL_BODY));
    const commands = server.sendCommands({ ...body, type: body.type }, who.name);
    send(res, 202, { command: commands[0], commands: commands.map((c) => commandView(server, c)) });
    return true;
  }
  if (method === "GET" && path === "/api/commands") {
    require(caller, READ_ROLES);
    const recent = server.store.recentCommands(intParam(url, "limit", 20, 1, 200));
    send(res, 200, { commands: recent.map((c) => ({ ...c, targets: server.commandTargets(c.command) })) });
    return true;
  }
  if (method === "GET" && parts[1] === "commands" && parts.length === 3) {
    require(caller, READ_ROLES);
    const command = server.store.command(parts[2] ?? "");
    if (!command) throw new ApiError(404, `no command ${parts[2]}`);
    send(res, 200, { ...command, targets: server.commandTargets(command.command) });
    return true;
  }
  return false;
};
