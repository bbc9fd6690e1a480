import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { type Direction, parseKeyHex, parseLinkTarget } from "@sesame/bridge";
import { type SimEndpoint, type SimLane, startSimLane } from "../lane/simLane.js";

export interface SimLaneIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
  /** Stops the simulator from outside (tests); SIGINT and SIGTERM stop it too. */
  readonly signal?: AbortSignal;
}

const USAGE = `usage: sesame sim lane [--listen tcp://127.0.0.1:PORT | --pty PATH] [--address N] [--scbk HEX]
                      [--reader-address N | --no-reader] [--install] [--libosdp] [--baud N]

Starts a simulated lane controller (turnstile I/O, LEDs, buzzer) and an OSDP QR reader on one
OSDP bus, reachable over TCP (like a serial device server) or a PTY (like /dev/ttyUSB0).
  --listen tcp://HOST:PORT  listen there (default tcp://127.0.0.1:0, a free port)
  --pty PATH                make a PTY pair and link PATH to the end a control panel opens
  --address N               lane controller OSDP address, 0-126 (default 0)
  --reader-address N        reader address (default N+1); --no-reader for none
  --scbk HEX                Secure Channel Base Key (32 hex digits); without one the PDs talk in
                            clear text, or open the secure channel on SCBK-D (install mode)
  --install                 with --scbk: accept SCBK-D too, until a key is set with osdp_KEYSET
  --libosdp                 behave like PDs built on libosdp 3.x: status replies (ISTATR, OSTATR,
                            LSTATR) under security block 0x15 instead of 0x16/0x18
  --baud N                  line speed the simulator paces bytes at (default 115200)`;

const HELP = `commands (a direction is entry or exit, default entry):
  walk [DIR] [N]        N people walk through (they pass only if the lane is unlocked)
  tailgate [DIR]        two people in one rotation
  force [DIR]           someone pushes through a locked arm
  scan TEXT             the reader sees a QR code with TEXT
  fire on|off           fire alarm line (free passage)
  tamper on|off         controller cabinet opened / closed
  jam on|off            the turnstile arm sticks
  unplug | plug         pull / reconnect the bus cable
  noise [N]             N bytes of line noise
  corrupt [N]           corrupt the CRC of the next N replies
  drop [N]              drop the next N replies
  reboot                reboot the controller (the OSDP link restarts at sequence 0)
  power-loss [MS]       cut the controller's power for MS milliseconds (default 3000)
  status                show outputs, inputs, LED and counters
  quit                  stop the simulator`;

class UsageError extends Error {}

function parseAddress(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 126)
    throw new UsageError(`${name} must be 0-126, got "${value}"`);
  return Number(value);
}

interface Parsed {
  endpoint: SimEndpoint;
  address: number;
  readerAddress: number | false;
  scbk: Uint8Array | undefined;
  /** Undefined: the PDs' default, SCBK-D accepted while they have no SCBK. */
  installMode: true | undefined;
  libosdpStatusBlock: boolean;
  baudRate: number;
}

function parse(argv: string[]): Parsed {
  let values: ReturnType<typeof parseArgsStrict>["values"];
  try {
    ({ values } = parseArgsStrict(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.listen !== undefined && values.pty !== undefined) {
    throw new UsageError("give either --listen or --pty, not both");
  }
  let endpoint: SimEndpoint = { tcp: { host: "127.0.0.1", port: 0 } };
  if (values.listen !== undefined) {
    let target: ReturnType<typeof parseLinkTarget>;
    try {
      target = parseLinkTarget(values.listen, { listening: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (target.kind !== "tcp") throw new UsageError(`--listen takes tcp://HOST:PORT, got "${values.listen}"`);
    endpoint = { tcp: { host: target.host, port: target.port } };
  } else if (values.pty !== undefined) {
    if (!values.pty.startsWith("/"))
      throw new UsageError(`--pty takes an absolute path, got "${values.pty}"`);
    endpoint = { pty: values.pty };
  }
  const address = values.address === undefined ? 0 : parseAddress("--address", values.address);
  let readerAddress: number | false = address + 1 > 126 ? false : address + 1;
  if (values["no-reader"]) readerAddress = false;
  else if (values["reader-address"] !== undefined) {
    readerAddress = parseAddress("--reader-address", values["reader-address"]);
  }
  if (readerAddress === address)
    throw new UsageError("the reader and the controller need different addresses");
  let scbk: Uint8Array | undefined;
  if (values.scbk !== undefined) {
    try {
      scbk = parseKeyHex(values.scbk);
    } catch (error) {
      throw new UsageError(`--scbk: ${(error as Error).message}`);
    }
  }
  const baudRate = values.baud === undefined ? 115_200 : Number(values.baud);
  if (!Number.isInteger(baudRate) || baudRate < 1_200 || baudRate > 1_000_000) {
    throw new UsageError(
      `--baud must be a whole number of bits per second (1200-1000000), got "${values.baud}"`,
    );
  }
  return {
    endpoint,
    address,
    readerAddress,
    scbk,
    // Not false when absent: a PD without a key then accepts SCBK-D, as docs/osdp.md says.
    installMode: values.install === true ? true : undefined,
    libosdpStatusBlock: values.libosdp === true,
    baudRate,
  };
}

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      listen: { type: "string" },
      pty: { type: "string" },
      address: { type: "string" },
      "reader-address": { type: "string" },
      "no-reader": { type: "boolean" },
      scbk: { type: "string" },
      install: { type: "boolean" },
      libosdp: { type: "boolean" },
      baud: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/**
 * `sesame sim lane`: runs a simulated lane for venue techs and for tests, until "quit", SIGINT,
 * SIGTERM or `io.signal`. Returns the process exit code (2 for a usage error).
 */
export async function runSimLaneCommand(argv: string[], io: SimLaneIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  if (argv.includes("--help") || argv.includes("-h")) {
    say(USAGE);
    return 0;
  }
  let options: Parsed;
  try {
    options = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`sesame sim lane: ${error.message}`);
    say(USAGE);
    return 2;
  }
  let sim: SimLane;
  try {
    sim = await startSimLane({ ...options, endpoint: options.endpoint });
  } catch (error) {
    say(`sesame sim lane: cannot start: ${(error as Error).message}`);
    return 1;
  }
  const security =
    (options.scbk === undefined
      ? "clear text, or the secure channel on SCBK-D (install mode, until KEYSET)"
      : options.installMode
        ? "secure channel required (SCBK given; SCBK-D accepted until KEYSET)"
        : "secure channel required (SCBK given)") +
    (options.libosdpStatusBlock ? "; status replies under security block 0x15, as libosdp PDs do" : "");
  say(
    `sesame sim lane: controller at OSDP address ${options.address}` +
      (options.readerAddress === false ? ", no reader" : `, reader at address ${options.readerAddress}`) +
      `, ${options.baudRate} baud, ${security}`,
  );
  say(`connect to: ${sim.where}`);
  say(`type "help" for commands`);

  const controller = sim.controller;
  controller.on("output", (output, on) => {
    const name =
      output === controller.wiring.entryUnlockOutput
        ? "entry"
        : output === controller.wiring.exitUnlockOutput
          ? "exit"
          : `output ${output}`;
    say(`[lane] ${name} ${on ? "UNLOCKED" : "locked"}`);
  });
  controller.on("led", (led, state) =>
    say(`[lane] LED ${led}: colour ${state.color}${state.flashing ? " flashing" : ""}`),
  );
  controller.on("buzzer", (beeps) => say(`[lane] buzzer: ${beeps} beep(s)`));
  controller.on("key-changed", (key) =>
    say(`[lane] new SCBK written by the control panel: ${Buffer.from(key).toString("hex")}`),
  );

  const direction = (word: string | undefined): Direction => {
    if (word === undefined || word === "entry" || word === "in") return "entry";
    if (word === "exit" || word === "out") return "exit";
    throw new UsageError(`"${word}" is not a direction (entry or exit)`);
  };
  const onOff = (word: string | undefined): boolean => {
    if (word === "on") return true;
    if (word === "off") return false;
    throw new UsageError(`expected on or off, got "${word ?? ""}"`);
  };
  const count = (word: string | undefined, fallback: number): number => {
    if (word === undefined) return fallback;
    if (!/^\d+$/.test(word) || Number(word) < 1) throw new UsageError(`"${word}" is not a positive number`);
    return Number(word);
  };

  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const handle = (line: string) => {
    const [verb, ...rest] = line.trim().split(/\s+/);
    if (verb === undefined || verb === "") return;
    try {
      switch (verb) {
        case "help":
          return say(HELP);
        case "walk": {
          const dir = direction(rest[0]);
          const people = count(rest[1], 1);
          for (let i = 0; i < people; i++) {
            void controller.walk(dir).then((outcome) => say(`[person] ${dir}: ${outcome}`));
          }
          return;
        }
        case "tailgate":
        case "force": {
          const dir = direction(rest[0]);
          void controller.walk(dir, verb).then((outcome) => say(`[person] ${dir} (${verb}): ${outcome}`));
          return;
        }
        case "scan":
          if (sim.reader === undefined) return say("this lane has no reader");
          if (rest.length === 0) return say("scan needs the code's text");
          sim.reader.scan(rest.join(" "));
          return say(`[reader] scanned ${rest.join(" ")}`);
        case "fire":
          controller.setFireAlarm(onOff(rest[0]));
          return say(`[lane] fire alarm ${rest[0]}`);
        case "tamper":
          controller.setTamper(onOff(rest[0]));
          return say(`[lane] tamper ${rest[0]}`);
        case "jam":
          controller.setJammed(onOff(rest[0]));
          return say(`[lane] turnstile ${rest[0] === "on" ? "jammed" : "free to turn"}`);
        case "unplug":
          sim.bus.unplug();
          return say("[bus] cable unplugged");
        case "plug":
          sim.bus.plug();
          return say("[bus] cable plugged back");
        case "noise":
          sim.bus.injectNoise(count(rest[0], 8));
          return say("[bus] noise sent");
        case "corrupt":
          sim.bus.corruptNextReplies(count(rest[0], 1));
          return say("[bus] next replies will have a bad CRC");
        case "drop":
          sim.bus.dropNextReplies(count(rest[0], 1));
          return say("[bus] next replies will be dropped");
        case "reboot":
          controller.reboot();
          return say("[lane] controller rebooted");
        case "power-loss": {
          const ms = count(rest[0], 3_000);
          controller.powerLoss(ms);
          return say(`[lane] power cut for ${ms} ms`);
        }
        case "status":
          return say(
            `outputs ${JSON.stringify(controller.outputState)} inputs ${JSON.stringify(controller.inputState)} ` +
              `LED ${JSON.stringify(controller.led() ?? null)} passages ${JSON.stringify(controller.turnstile.passages)} ` +
              `secure ${controller.device.secure} bus ${JSON.stringify(sim.bus.counters)}`,
          );
        case "quit":
        case "exit-sim":
          return finish(0);
        default:
          return say(`unknown command "${verb}"; type "help"`);
      }
    } catch (error) {
      say(error instanceof UsageError ? error.message : `error: ${(error as Error).message}`);
    }
  };

  const lines = createInterface({ input: io.stdin, terminal: false });
  lines.on("line", handle);
  let stopping = false;
  lines.on("close", () => {
    if (!stopping) say("(console closed; the simulator keeps running until SIGINT or SIGTERM)");
  });
  const onSignal = () => finish(0);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  io.signal?.addEventListener("abort", onSignal, { once: true });
  if (io.signal?.aborted) finish(0);

  const code = await done;
  stopping = true;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  io.signal?.removeEventListener("abort", onSignal);
  lines.close();
  await sim.close();
  say("sesame sim lane: stopped");
  return code;
}
