import { useI18n } from "./i18n.js";
import type { MinuteTally } from "./live.js";

/*
 * Entries per minute over the last 90 minutes, as stacked bars (entries, then refusals on top),
 * drawn by hand in SVG: one chart does not justify a chart library in a security console.
 */

const WIDTH = 900;
const HEIGHT = 220;
const LEFT = 44;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 26;

/** The smallest of 1, 2, 5 × 10^k at or above `n`: round axis values. */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

export function ThroughputChart(props: {
  readonly minutes: Readonly<Record<number, MinuteTally>>;
  /** Server time now (ms). */
  readonly now: number;
  readonly windowMinutes?: number;
}) {
  const { t, time } = useI18n();
  const span = props.windowMinutes ?? 90;
  const last = Math.floor(props.now / 60_000) * 60_000;
  const first = last - (span - 1) * 60_000;
  const bars = Array.from({ length: span }, (_, i) => {
    const at = first + i * 60_000;
    const m = props.minutes[at];
    return { at, entered: m?.entered ?? 0, refused: m?.refused ?? 0 };
  });
  const peak = niceCeiling(Math.max(...bars.map((b) => b.entered + b.refused)));
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = plotW / span;
  const y = (v: number) => TOP + plotH - (v / peak) * plotH;
  const ticks = [0, peak / 2, peak];
  const total = bars.reduce((sum, b) => sum + b.entered, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="chart-title"
        data-testid="throughput-chart"
        data-total={total}
      >
        <title id="chart-title">{t("perMinute")}</title>
        {ticks.map((v) => (
          <g key={v}>
            <line className="grid" x1={LEFT} x2={WIDTH - RIGHT} y1={y(v)} y2={y(v)} />
            <text className="axis" x={LEFT - 6} y={y(v) + 4} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const x = LEFT + i * slot + 0.5;
          const w = Math.max(1, slot - 1);
          const label = t("chartBar", { time: time(b.at, false), entered: b.entered, refused: b.refused });
          return (
            <g key={b.at}>
              <title>{label}</title>
              {b.entered > 0 ? (
                <rect className="bar-entered" x={x} width={w} y={y(b.entered)} height={y(0) - y(b.entered)} />
              ) : null}
              {b.refused > 0 ? (
                <rect
                  className="bar-refused"
                  x={x}
                  width={w}
                  y={y(b.entered + b.refused)}
                  height={y(b.entered) - y(b.entered + b.refused)}
                />
              ) : null}
            </g>
          );
        })}
        {bars.map((b, i) =>
          new Date(b.at).getUTCMinutes() % 15 === 0 ? (
            <text
              key={`x${b.at}`}
              className="axis"
              x={LEFT + (i + 0.5) * slot}
              y={HEIGHT - 8}
              textAnchor="middle"
            >
              {time(b.at, false)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption>
        <span className="legend legend-entered" /> {t("perMinuteLegendEntered")}
        <span className="legend legend-refused" /> {t("perMinuteLegendRefused")}
      </figcaption>
    </figure>
  );
}
