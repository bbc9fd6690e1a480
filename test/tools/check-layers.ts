import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/*
 * The layering rule of docs/design.md §12, checked on the import graph of every workspace package
 * (`pnpm run layers`, part of `pnpm run check`). Imports are read from the sources themselves
 * (static `import`/`export … from` and dynamic `import("…")`); `@sesame/*` names are resolved
 * through each package.json's `exports`, relative paths through the file system.
 *
 * Layers, lowest first; a package imports only packages of lower layers: never one above, never
 * a peer of its own layer. In four tiers:
 *   core           0 ticket  <  1 venue  <  2 gate-core
 *   adapters       3 cache, sync, scanner, bridge, testing  <  4 hardware-sim (the bridge's simulated peers)
 *   composition    5 gate, sync-server, issuer
 *   apps           6 kiosk, supervisor  <  7 cli (composes the whole venue)
 * Besides:
 *   - a non-test source never reaches into another package by relative path, and never imports a
 *     test double or fixture (`@sesame/testing`, `@sesame/<pkg>/testing`, `@sesame/<pkg>/fixtures`);
 *   - a bench (`<pkg>/bench/`) imports other packages by name, never by a path out of its package;
 *   - tests (`test/`, `<pkg>/test/`, `*.test.ts`) may import anything;
 *   - no cycle of value imports between modules, whatever their role (type-only imports do not load
 *     anything at run time, so they are left out).
 */

/** Layer of each workspace package, by name (docs/design.md §12). A new package must be placed here. */
export const LAYERS: Readonly<Record<string, number>> = {
  "@sesame/ticket": 0,
  "@sesame/venue": 1,
  "@sesame/gate-core": 2,
  "@sesame/cache": 3,
  "@sesame/sync": 3,
  "@sesame/scanner": 3,
  "@sesame/bridge": 3,
  "@sesame/testing": 3,
  "@sesame/hardware-sim": 4,
  "@sesame/gate": 5,
  "@sesame/sync-server": 5,
  "@sesame/issuer": 5,
  "@sesame/kiosk": 6,
  "@sesame/supervisor": 6,
  "@sesame/cli": 7,
};

/** Packages made of tests only: every file in them is a test. */
const TEST_PACKAGES = new Set(["@sesame/system-tests"]);

const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".mjs", ".js"];

export interface Problem {
  /** Path of the importing file, relative to the root. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly message: string;
}

type Role = "source" | "bench" | "test";

interface WorkspacePackage {
  readonly name: string;
  /** Absolute directory. */
  readonly dir: string;
  readonly exports: Readonly<Record<string, string>>;
}

interface ImportRef {
  readonly specifier: string;
  readonly line: number;
  readonly typeOnly: boolean;
}

interface Module {
  readonly file: string;
  readonly pkg: WorkspacePackage;
  readonly role: Role;
  readonly imports: readonly ImportRef[];
}

/** Workspace package directories, from the `packages:` list of pnpm-workspace.yaml (`dir` or `dir/*`). */
function workspacePackages(root: string): WorkspacePackage[] {
  const yaml = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const patterns: string[] = [];
  let inPackages = false;
  for (const line of yaml.split("\n")) {
    if (/^packages:\s*$/.test(line)) inPackages = true;
    else if (/^\S/.test(line)) inPackages = false;
    else if (inPackages) {
      const m = /^\s+-\s+["']?([^"'#\s]+)["']?/.exec(line);
      if (m?.[1] !== undefined) patterns.push(m[1]);
    }
  }
  const dirs = patterns.flatMap((p) => {
    if (!p.endsWith("/*")) return [join(root, p)];
    const parent = join(root, p.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent).map((d) => join(parent, d));
  });
  return dirs
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        exports?: string | Record<string, string>;
      };
      if (manifest.name === undefined) throw new Error(`${relative(root, dir)}/package.json has no name`);
      const exports =
        manifest.exports === undefined
          ? {}
          : typeof manifest.exports === "string"
            ? { ".": manifest.exports }
            : manifest.exports;
      return { name: manifest.name, dir, exports };
    });
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE_EXTENSIONS.some((e) => name.endsWith(e)) && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function roleOf(file: string, pkg: WorkspacePackage): Role {
  if (TEST_PACKAGES.has(pkg.name)) return "test";
  const inside = relative(pkg.dir, file).split(sep);
  if (inside[0] === "test" || /\.test\.tsx?$/.test(file)) return "test";
  if (inside[0] === "bench") return "bench";
  return "source";
}

/** Every import of a file: static, re-exports and dynamic `import("…")` with a literal specifier. */
export function importsOf(file: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: ImportRef[] = [];
  const add = (literal: ts.Expression, typeOnly: boolean) => {
    if (!ts.isStringLiteral(literal) && !ts.isNoSubstitutionTemplateLiteral(literal)) return;
    const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line + 1;
    out.push({ specifier: literal.text, line, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            named !== undefined &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      const clause = node.exportClause;
      const typeOnly =
        node.isTypeOnly ||
        (clause !== undefined &&
          ts.isNamedExports(clause) &&
          clause.elements.length > 0 &&
          clause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined
    ) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** A relative specifier as the file it loads (`./x.js` is `./x.ts` in the sources), if any. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m?js|jsx)$/, "");
  const candidates = [
    base,
    ...SOURCE_EXTENSIONS.map((e) => stem + e),
    ...SOURCE_EXTENSIONS.map((e) => join(base, `index${e}`)),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

type Target =
  | { kind: "file"; file: string; pkg: WorkspacePackage; subpath?: string }
  | { kind: "external" }
  | { kind: "unresolved"; why: string };

function resolveImport(from: string, specifier: string, packages: readonly WorkspacePackage[]): Target {
  if (specifier.startsWith(".")) {
    const file = resolveRelative(from, specifier);
    if (file === undefined) return { kind: "unresolved", why: "no such file" };
    const pkg = packageOf(file, packages);
    return pkg === undefined ? { kind: "external" } : { kind: "file", file, pkg };
  }
  const pkg = packages.find((p) => specifier === p.name || specifier.startsWith(`${p.name}/`));
  if (pkg === undefined) return { kind: "external" };
  const subpath = `.${specifier.slice(pkg.name.length)}`;
  const target = pkg.exports[subpath];
  if (target === undefined) return { kind: "unresolved", why: `${pkg.name} exports no "${subpath}"` };
  return { kind: "file", file: resolve(pkg.dir, target), pkg, subpath };
}

function packageOf(file: string, packages: readonly WorkspacePackage[]): WorkspacePackage | undefined {
  let best: WorkspacePackage | undefined;
  for (const p of packages) {
    if (file.startsWith(p.dir + sep) && (best === undefined || p.dir.length > best.dir.length)) best = p;
  }
  return best;
}

const TEST_ONLY_SUBPATHS = new Set(["./testing", "./fixtures"]);

/** Checks the workspace at `root`; returns what breaks the rule, in file order. */
export function checkLayers(root: string, layers: Readonly<Record<string, number>> = LAYERS): Problem[] {
  const packages = workspacePackages(root);
  const problems: Problem[] = [];
  const rel = (file: string) => relative(root, file).split(sep).join("/");
  for (const p of packages) {
    if (!TEST_PACKAGES.has(p.name) && layers[p.name] === undefined)
      problems.push({
        file: `${rel(p.dir)}/package.json`,
        line: 1,
        specifier: p.name,
        message: `package ${p.name} has no layer: place it in LAYERS (test/tools/check-layers.ts)`,
      });
  }

  const modules = new Map<string, Module>();
  for (const pkg of packages) {
    for (const file of sourceFiles(pkg.dir)) {
      // A nested workspace package's files belong to it, not to the enclosing one.
      if (packageOf(file, packages) !== pkg) continue;
      modules.set(file, {
        file,
        pkg,
        role: roleOf(file, pkg),
        imports: importsOf(file, readFileSync(file, "utf8")),
      });
    }
  }

  const edges = new Map<string, Array<{ to: string; line: number; specifier: string }>>();
  for (const m of modules.values()) {
    const out: Array<{ to: string; line: number; specifier: string }> = [];
    edges.set(m.file, out);
    for (const ref of m.imports) {
      const problem = (message: string) =>
        problems.push({ file: rel(m.file), line: ref.line, specifier: ref.specifier, message });
      const target = resolveImport(m.file, ref.specifier, packages);
      if (target.kind === "external") continue;
      if (target.kind === "unresolved") {
        problem(`cannot be resolved: ${target.why}`);
        continue;
      }
      if (!ref.typeOnly && modules.has(target.file))
        out.push({ to: target.file, line: ref.line, specifier: ref.specifier });
      if (target.pkg === m.pkg || m.role === "test") continue;

      const relativePath = ref.specifier.startsWith(".");
      if (relativePath) {
        const remedy = TEST_PACKAGES.has(target.pkg.name)
          ? "move what it needs into a package's exports (test helpers: @sesame/testing)"
          : `import ${target.pkg.name} by name, through its exports`;
        problem(
          m.role === "bench"
            ? `a bench reaches out of ${m.pkg.name} by relative path into ${rel(target.file)}: ${remedy}`
            : `reaches into ${rel(target.file)} by relative path: ${remedy}`,
        );
        continue;
      }
      if (m.role === "bench") continue;
      if (
        TEST_PACKAGES.has(target.pkg.name) ||
        target.pkg.name === "@sesame/testing" ||
        TEST_ONLY_SUBPATHS.has(target.subpath ?? "")
      ) {
        problem(`production code imports a test helper (${ref.specifier}): tests and benches only`);
        continue;
      }
      const from = layers[m.pkg.name];
      const to = layers[target.pkg.name];
      if (from !== undefined && to !== undefined && to > from)
        problem(
          `runs the wrong way: ${m.pkg.name} (layer ${from}) imports ${target.pkg.name} (layer ${to}); ` +
            "a package imports only the layers below its own",
        );
      else if (from !== undefined && from === to)
        problem(
          `${m.pkg.name} and ${target.pkg.name} are peers (layer ${from}): neither imports the other; ` +
            "what both need belongs to a layer below",
        );
    }
  }

  for (const cycle of valueCycles(edges)) {
    const [first] = cycle;
    if (first === undefined) continue;
    problems.push({
      file: rel(first.from),
      line: first.line,
      specifier: first.specifier,
      message: `cycle of value imports: ${[...cycle.map((e) => rel(e.from)), rel(first.from)].join(" → ")}`,
    });
  }
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly specifier: string;
}

/**
 * One cycle per strongly connected component of the value-import graph (Tarjan), as the list of
 * its edges: enough to name every tangle once; untying it may reveal another, reported next run.
 */
function valueCycles(
  edges: ReadonlyMap<string, ReadonlyArray<{ to: string; line: number; specifier: string }>>,
): Edge[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges.get(v) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(to) ?? 0));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v) ?? 0, index.get(to) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      for (;;) {
        const w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
        if (w === v) break;
      }
      const selfLoop = (edges.get(v) ?? []).some((e) => e.to === v);
      if (component.length > 1 || selfLoop) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);

  return components.map((component) => {
    // Shortest way back to the component's first file (breadth-first, inside the component).
    const members = new Set(component);
    const start = [...component].sort()[0] ?? "";
    const via = new Map<string, Edge>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift() ?? "";
      for (const e of edges.get(v) ?? []) {
        if (!members.has(e.to) || via.has(e.to)) continue;
        via.set(e.to, { from: v, ...e });
        if (e.to === start) queue.length = 0;
        else queue.push(e.to);
      }
    }
    const path: Edge[] = [];
    let at = start;
    do {
      const e = via.get(at);
      if (e === undefined) break;
      path.unshift(e);
      at = e.from;
    } while (at !== start);
    return path;
  });
}

/** The report printed by `pnpm run layers`: one line per problem, then a summary. */
export function report(problems: readonly Problem[]): string {
  if (problems.length === 0) return "layers: imports run one way, no cycles";
  const lines = problems.map((p) => `${p.file}:${p.line}: import "${p.specifier}": ${p.message}`);
  return `${lines.join("\n")}\n\n${problems.length} layering problem(s); the rule: docs/design.md §12`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL("../..", import.meta.url)));
  const problems = checkLayers(root);
  (problems.length === 0 ? console.log : console.error)(report(problems));
  process.exitCode = problems.length === 0 ? 0 : 1;
}
