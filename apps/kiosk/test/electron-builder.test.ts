import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";

/*
 * The kiosk's packaging (electron-builder.json). Building it needs the Electron binary, which is
 * downloaded from outside the package registry and cannot be fetched on the build machines: what is
 * checked here is the configuration against the JSON schema electron-builder ships (app-builder-lib's
 * scheme.json) with Ajv and with electron-builder's own validateConfiguration (what it runs before a
 * build), and that it packs what the shell's build makes.
 */

const kiosk = new URL("../", import.meta.url);
const config = JSON.parse(readFileSync(new URL("electron-builder.json", kiosk), "utf8")) as Record<
  string,
  unknown
>;
const pkg = JSON.parse(readFileSync(new URL("package.json", kiosk), "utf8")) as {
  main: string;
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};
const fromBuilder = createRequire(createRequire(kiosk).resolve("electron-builder/package.json"));
const schema = fromBuilder("app-builder-lib/scheme.json") as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

describe("kiosk packaging (electron-builder)", () => {
  it("is a valid electron-builder configuration", () => {
    const ok = validate(config);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("passes electron-builder's own check, the one it runs before a build", async () => {
    const { validateConfiguration } = fromBuilder("app-builder-lib/out/util/config/config.js") as {
      validateConfiguration: (c: object, log: object) => Promise<void>;
    };
    const { DebugLogger } = fromBuilder("builder-util") as { DebugLogger: new (enabled: boolean) => object };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, appID: "x" }, new DebugLogger(false))).rejects.toThrow(
      /unknown property 'appID'/,
    );
  });

  it("is checked for real: the schema refuses a misspelt option and a wrong type", () => {
    expect(validate({ ...config, appID: "x" })).toBe(false);
    expect(validate({ ...config, asar: "yes" })).toBe(false);
    expect(validate({ ...config, linux: { target: 5 } })).toBe(false);
  });

  it("packs the shell the build makes, alone, for the Electron the kiosk is written for, on Linux targets", () => {
    // The shell is bundled as CommonJS: the kiosk package is "type": "module", so it ends in .cjs.
    expect(pkg.main).toBe("dist/electron/main.cjs");
    expect(pkg.scripts["build:electron"]).toContain(`--outfile=${pkg.main}`);
    // The packaged app is that folder with a package.json of its own: no workspace dependency (the
    // kiosk's are the backend's, which runs from the repository under the machine's Node) goes in.
    expect(pkg.scripts["build:electron"]).toContain(
      "cp electron/app.package.json dist/electron/package.json",
    );
    const app = JSON.parse(readFileSync(new URL("electron/app.package.json", kiosk), "utf8")) as Record<
      string,
      unknown
    >;
    expect(app.main).toBe("main.cjs");
    expect(app.dependencies).toBeUndefined();
    expect(config.directories).toMatchObject({ app: "dist/electron" });
    expect(config.files).toEqual(["main.cjs", "package.json"]);
    expect(config.electronVersion).toBe(pkg.devDependencies.electron);
    expect(config.npmRebuild).toBe(false);
    const targets = (config.linux as { target: string[] }).target;
    for (const t of targets) expect(["AppImage", "deb", "rpm", "dir", "tar.gz", "zip"]).toContain(t);
    // Installers go under dist/ (ignored by git).
    expect((config.directories as { output: string }).output).toMatch(/^dist\//);
  });
});
