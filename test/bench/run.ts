import { readdirSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchFigure } from "@sesame/testing/bench";

/*
 * `pnpm bench`: runs every `bench/*.bench.ts` of the workspace (each exports `run()` returning its
 * figures), prints each figure beside its target with the machine it ran on, and writes the lot to
 * bench-results.json. Benchmarks are not tests: nothing here fails the build on a slow figure.
 */

const root = fileURLToPath(new URL("../..", import.meta.url));
const only = process.argv.slice(2);

function benchFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 3) return;
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, depth + 1);
      else if (name.endsWith(".bench.ts") && dir.endsWith("bench")) found.push(path);
    }
  };
  walk(root, 0);
  return found.sort().filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
}

const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  at: new Date().toISOString(),
};
console.log(
  `Sésame benchmarks on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}\n`,
);

const results: Array<{ file: string; figures: BenchFigure[]; error?: string }> = [];
for (const file of benchFiles()) {
  const name = relative(root, file);
  process.stdout.write(`${name}\n`);
  try {
    const mod = (await import(pathToFileURL(file).href)) as { run?: () => Promise<BenchFigure[]> };
    if (typeof mod.run !== "function") throw new Error("exports no run()");
    const figures = await mod.run();
    for (const f of figures) {
      const mark = f.ok === undefined ? " " : f.ok ? "✓" : "✗";
      const value = Number.isInteger(f.value) ? f.value.toLocaleString("en") : f.value.toPrecision(4);
      console.log(
        `  ${mark} ${f.name.padEnd(58)} ${`${value} ${f.unit}`.padStart(18)}   ${f.target ? `target ${f.target}` : ""}`,
      );
    }
    results.push({ file: name, figures });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(`  ✗ failed: ${message}`);
    results.push({ file: name, figures: [], error: message });
  }
}
const out = join(root, "bench-results.json");
writeFileSync(out, `${JSON.stringify({ machine, results }, null, 2)}\n`);
const missed = results.flatMap((r) => r.figures).filter((f) => f.ok === false).length;
console.log(
  `\n${results.length} benchmark files; ${missed} figures miss their target; results in ${relative(process.cwd(), out)}`,
);
