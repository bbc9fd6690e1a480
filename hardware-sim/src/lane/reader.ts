import { CapabilityFunction, NakCode, type OsdpCommand, type OsdpReply } from "@sesame/bridge";
import { type PeripheralApplication, PeripheralDevice } from "../osdp/peripheral.js";
import { SIM_VENDOR_CODE } from "./laneController.js";

export interface ReaderOptions {
  readonly address: number;
  readonly scbk?: Uint8Array;
  readonly installMode?: boolean;
  readonly serialNumber?: number;
  /** Seal status replies under SCS_15, as libosdp 3.x PDs do (see PeripheralOptions). */
  readonly libosdpStatusBlock?: boolean;
}

/** A simulated OSDP QR reader: each scanned code goes to the control panel as an osdp_RAW report. */
export class SimReader implements PeripheralApplication {
  readonly device: PeripheralDevice;
  scans = 0;

  constructor(options: ReaderOptions) {
    this.device = new PeripheralDevice(
      {
        address: options.address,
        scbk: options.scbk,
        installMode: options.installMode,
        libosdpStatusBlock: options.libosdpStatusBlock,
        identity: {
          vendorCode: SIM_VENDOR_CODE,
          model: 0x02,
          version: 0x01,
          serialNumber: options.serialNumber ?? 0x2000 + options.address,
          firmware: { major: 1, minor: 0, build: 0 },
        },
        capabilities: [
          { function: CapabilityFunction.CARD_DATA_FORMAT, compliance: 1, items: 0 },
          { function: CapabilityFunction.READER_LED_CONTROL, compliance: 1, items: 1 },
          { function: CapabilityFunction.READER_AUDIBLE_OUTPUT, compliance: 1, items: 1 },
          { function: CapabilityFunction.CHECK_CHARACTER_SUPPORT, compliance: 1, items: 0 },
          { function: CapabilityFunction.COMMUNICATION_SECURITY, compliance: 1, items: 1 },
          { function: CapabilityFunction.READERS, compliance: 0, items: 1 },
        ],
      },
      this,
    );
  }

  /** The reader saw a code (the QR's text, or raw bytes). */
  scan(code: string | Uint8Array): void {
    const data = typeof code === "string" ? new Uint8Array(Buffer.from(code, "latin1")) : code;
    if (data.length === 0) throw new Error("an empty scan is not a scan");
    if (data.length > 900) throw new Error(`a ${data.length}-byte code does not fit one osdp_RAW report`);
    this.scans++;
    this.device.report({ kind: "raw", reader: 0, format: 0, bitCount: data.length * 8, data });
  }

  command(command: OsdpCommand): OsdpReply {
    switch (command.kind) {
      case "lstat":
        return { kind: "lstatr", tamper: false, powerFailure: false };
      case "istat":
        return { kind: "istatr", inputs: [] };
      case "ostat":
        return { kind: "ostatr", outputs: [] };
      case "led":
      case "buz":
        return { kind: "ack" };
      default:
        return { kind: "nak", code: NakCode.UNKNOWN_COMMAND, reason: "" };
    }
  }
}
