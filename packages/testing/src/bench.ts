/** One measured figure, printed beside its target (docs/design.md §11). */
export interface BenchFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The target as written in docs/design.md §11 or the issue, e.g. "p99 ≤ 2 ms". */
  readonly target?: string;
  /** Whether the value meets the target (undefined: informational). */
  readonly ok?: boolean;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** Times `fn` `n` times and returns the sorted durations in milliseconds. */
export function sample(n: number, fn: (i: number) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn(i);
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
