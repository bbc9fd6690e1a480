import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeTempDir } from "@sesame/testing";
import { afterEach, describe, expect, it } from "vitest";
import { checkLayers, importsOf, report } from "./check-layers.js";

/** A small workspace: a pure package, an adapter, an app and a tests package, all clean. */
const CLEAN: Record<string, string> = {
  "pnpm-workspace.yaml": "packages:\n  - apps/*\n  - packages/*\n  - test\n\nallowBuilds:\n  esbuild: true\n",
  "packages/ticket/package.json": manifest("@sesame/ticket", { ".": "./src/index.ts" }),
  "packages/ticket/src/index.ts":
    'export { sign } from "./sign.js";\nexport type { Body } from "./body.js";\n',
  "packages/ticket/src/sign.ts":
    'import type { Body } from "./body.js";\nexport const sign = (b: Body) => b;\n',
  // A cycle through type-only imports loads nothing at run time: allowed.
  "packages/ticket/src/body.ts": 'import { type sign } from "./sign.js";\nexport type Body = typeof sign;\n',
  "packages/ticket/test/sign.test.ts": 'import "../../../apps/kiosk/src/index.js";\n',
  "packages/cache/package.json": manifest("@sesame/cache", {
    ".": "./src/index.ts",
    "./testing": "./src/testing.ts",
  }),
  "packages/cache/src/index.ts": 'import { sign } from "@sesame/ticket";\nexport const store = sign;\n',
  "packages/cache/src/testing.ts": "export class MemoryStore {}\n",
  "packages/cache/bench/cache.bench.ts":
    'import { MemoryStore } from "@sesame/cache/testing";\nimport { store } from "../src/index.js";\nexport { MemoryStore, store };\n',
  "apps/kiosk/package.json": manifest("@sesame/kiosk", { ".": "./src/index.ts" }),
  "apps/kiosk/src/index.ts":
    'import { store } from "@sesame/cache";\nexport const ui = () => import("./lazy.js");\nexport { store };\n',
  "apps/kiosk/src/lazy.ts": "export const lazy = 1;\n",
  "test/package.json": manifest("@sesame/system-tests", undefined),
  "test/bench/figure.ts": "export const percentile = 1;\n",
  "test/whole.test.ts": 'import "../apps/kiosk/src/index.js";\nimport "@sesame/cache/testing";\n',
};

function manifest(name: string, exports: Record<string, string> | undefined): string {
  return JSON.stringify({ name, type: "module", ...(exports === undefined ? {} : { exports }) });
}

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function tree(files: Record<string, string>): string {
  const dir = makeTempDir("sesame-layers-");
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  return dir.path;
}

describe("the layering check", () => {
  it("passes a clean tree (type-only cycles, tests importing anything, benches by name)", () => {
    const problems = checkLayers(tree(CLEAN));
    expect(report(problems)).toBe("layers: imports run one way, no cycles");
  });

  it("names the file, the line and the import that runs the wrong way", () => {
    const problems = checkLayers(
      tree({
        ...CLEAN,
        "packages/ticket/src/sign.ts":
          'import type { Body } from "./body.js";\nimport { ui } from "@sesame/kiosk";\nexport const sign = (b: Body) => [b, ui];\n',
      }),
    );
    expect(report(problems).split("\n")).toContain(
      'packages/ticket/src/sign.ts:2: import "@sesame/kiosk": runs the wrong way: @sesame/ticket (layer 0) ' +
        "imports @sesame/kiosk (layer 6); a package imports only the layers below its own",
    );
    // ticket → kiosk → cache → ticket is also a cycle of value imports.
    expect(problems.map((p) => p.message)).toContainEqual(
      "cycle of value imports: apps/kiosk/src/index.ts → packages/cache/src/index.ts → " +
        "packages/ticket/src/index.ts → packages/ticket/src/sign.ts → apps/kiosk/src/index.ts",
    );
    expect(problems).toHaveLength(2);
  });

  it("keeps peers of one layer apart", () => {
    const problems = checkLayers(
      tree({
        ...CLEAN,
        "packages/sync/package.json": manifest("@sesame/sync", { ".": "./src/index.ts" }),
        "packages/sync/src/index.ts": 'export { store } from "@sesame/cache";\n',
      }),
    );
    expect(report(problems).split("\n")[0]).toBe(
      'packages/sync/src/index.ts:1: import "@sesame/cache": @sesame/sync and @sesame/cache are peers (layer 3): ' +
        "neither imports the other; what both need belongs to a layer below",
    );
  });

  it("reports a cycle of value imports once, as the path round it", () => {
    const problems = checkLayers(
      tree({
        ...CLEAN,
        "apps/kiosk/src/lazy.ts": 'export { store } from "./index.js";\n',
      }),
    );
    expect(report(problems)).toBe(
      'apps/kiosk/src/index.ts:2: import "./lazy.js": cycle of value imports: apps/kiosk/src/index.ts → ' +
        "apps/kiosk/src/lazy.ts → apps/kiosk/src/index.ts\n\n1 layering problem(s); the rule: docs/design.md §12",
    );
  });

  it("refuses relative paths out of a package, and test doubles in production code", () => {
    const problems = checkLayers(
      tree({
        ...CLEAN,
        "packages/cache/bench/cache.bench.ts":
          'import { percentile } from "../../../test/bench/figure.js";\n',
        "apps/kiosk/src/lazy.ts":
          'import { sign } from "../../../packages/ticket/src/sign.js";\nimport { MemoryStore } from "@sesame/cache/testing";\n',
        "apps/kiosk/src/gone.ts": 'import { nothing } from "@sesame/cache/internal";\n',
      }),
    );
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([
      'apps/kiosk/src/gone.ts:1: cannot be resolved: @sesame/cache exports no "./internal"',
      "apps/kiosk/src/lazy.ts:1: reaches into packages/ticket/src/sign.ts by relative path: import @sesame/ticket by name, through its exports",
      "apps/kiosk/src/lazy.ts:2: production code imports a test helper (@sesame/cache/testing): tests and benches only",
      "packages/cache/bench/cache.bench.ts:1: a bench reaches out of @sesame/cache by relative path into test/bench/figure.ts: move what it needs into a package's exports (test helpers: @sesame/testing)",
    ]);
  });

  it("asks for a layer for a package it does not know", () => {
    const problems = checkLayers(
      tree({ ...CLEAN, "packages/gate/package.json": manifest("@sesame/gates", { ".": "./src/index.ts" }) }),
    );
    expect(problems.map((p) => p.message)).toEqual([
      "package @sesame/gates has no layer: place it in LAYERS (test/tools/check-layers.ts)",
    ]);
  });

  it("tells type-only imports from value imports", () => {
    const refs = importsOf(
      "x.ts",
      [
        'import type { A } from "a";',
        'import { type B, type C } from "b";',
        'import { type D, e } from "d";',
        'import f from "f";',
        'import "g";',
        'export type { H } from "h";',
        'export { type I } from "i";',
        'export * from "j";',
        'const k = await import("k");',
        'type L = typeof import("l");',
      ].join("\n"),
    );
    expect(refs.map((r) => `${r.specifier}${r.typeOnly ? " (type)" : ""}`)).toEqual([
      "a (type)",
      "b (type)",
      "d",
      "f",
      "g",
      "h (type)",
      "i (type)",
      "j",
      "k",
    ]);
  });
});
