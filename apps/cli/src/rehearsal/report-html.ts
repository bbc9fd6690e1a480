import type { Percentiles, RehearsalReport } from "./report.js";

/*
 * The rehearsal report as one self-contained HTML page: inline CSS, SVG charts drawn here, no
 * script and no external resource, so that a venue tech can open it offline on any machine.
 */

const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

function esc(text: string | number): string {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A figure for people to read (thousands separated; "–" for no figure). */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString("en", { maximumFractionDigits: digits }) : "–";
}

/** Round tick values covering [0, max]. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

function lineChart(
  series: readonly Series[],
  options: { width?: number; height?: number; xLabel: string; yLabel: string; area?: boolean },
): string {
  const width = options.width ?? 860;
  const height = options.height ?? 280;
  const m = { left: 56, right: 16, top: 14, bottom: 40 };
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  if (xs.length === 0) return `<p class="muted">No data.</p>`;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1);
  const yTicks = ticks(Math.max(...ys, 1));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const X = (x: number) => m.left + ((x - xMin) / (xMax - xMin)) * (width - m.left - m.right);
  const Y = (y: number) => height - m.bottom - (y / yMax) * (height - m.top - m.bottom);
  const parts: string[] = [];
  for (const t of yTicks) {
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${Y(t)}" y2="${Y(t)}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${Y(t) + 4}" text-anchor="end">${fmt(t, 2)}</text>`,
    );
  }
  for (const t of ticks(xMax - xMin, 8)) {
    const x = X(xMin + t);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" class="axis"/>`,
      `<text x="${x}" y="${height - m.bottom + 16}" text-anchor="middle">${fmt(xMin + t, 1)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = s.points
      .map((p, k) => `${k === 0 ? "M" : "L"}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`)
      .join("");
    if (options.area && s.points.length > 1) {
      const first = s.points[0];
      const last = s.points[s.points.length - 1];
      if (first && last)
        parts.push(
          `<path d="${d}L${X(last[0]).toFixed(1)},${Y(0)}L${X(first[0]).toFixed(1)},${Y(0)}Z" fill="${color}" opacity="0.15"/>`,
        );
    }
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
  });
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" class="axis"/>`,
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 6}" text-anchor="middle" class="label">${esc(options.xLabel)}</text>`,
    `<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" class="label" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${esc(options.yLabel)}</text>`,
  );
  const legend =
    series.length > 1
      ? `<div class="legend">${series
          .map(
            (s, i) => `<span><i style="background:${PALETTE[i % PALETTE.length]}"></i>${esc(s.name)}</span>`,
          )
          .join("")}</div>`
      : "";
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img">${parts.join("")}</svg>${legend}`;
}

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color?: string;
  readonly title?: string;
}

function barChart(
  bars: readonly Bar[],
  options: { yLabel: string; height?: number; labelEvery?: number },
): string {
  const width = 860;
  const height = options.height ?? 260;
  const m = { left: 56, right: 12, top: 14, bottom: 46 };
  if (bars.length === 0) return `<p class="muted">No data.</p>`;
  const yTicks = ticks(Math.max(...bars.map((b) => b.value), 1));
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const slot = (width - m.left - m.right) / bars.length;
  const Y = (y: number) => height - m.bottom - (y / yMax) * (height - m.top - m.bottom);
  const every = options.labelEvery ?? Math.max(1, Math.ceil(bars.length / 40));
  const parts: string[] = [];
  for (const t of yTicks)
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${Y(t)}" y2="${Y(t)}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${Y(t) + 4}" text-anchor="end">${fmt(t, 2)}</text>`,
    );
  bars.forEach((b, i) => {
    const x = m.left + i * slot + slot * 0.1;
    const y = Y(b.value);
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, slot * 0.8).toFixed(1)}" height="${(Y(0) - y).toFixed(1)}" fill="${b.color ?? PALETTE[0]}"><title>${esc(b.title ?? `${b.label}: ${fmt(b.value)}`)}</title></rect>`,
    );
    if (i % every === 0) {
      const cx = m.left + i * slot + slot / 2;
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${height - m.bottom + 14}" text-anchor="end" transform="rotate(-45 ${cx.toFixed(1)} ${height - m.bottom + 14})">${esc(b.label)}</text>`,
      );
    }
  });
  parts.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${Y(0)}" y2="${Y(0)}" class="axis"/>`,
    `<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" class="label" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${esc(options.yLabel)}</text>`,
  );
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img">${parts.join("")}</svg>`;
}

function hbarChart(bars: readonly Bar[]): string {
  if (bars.length === 0) return `<p class="muted">No data.</p>`;
  const width = 860;
  const row = 20;
  const left = 230;
  const height = bars.length * row + 10;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const parts = bars.map((b, i) => {
    const w = ((width - left - 90) * b.value) / max;
    const y = 4 + i * row;
    return (
      `<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y + 2}" width="${Math.max(1, w).toFixed(1)}" height="${row - 6}" fill="${b.color ?? PALETTE[0]}"/>` +
      `<text x="${left + w + 6}" y="${y + 13}">${fmt(b.value)}</text>`
    );
  });
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img">${parts.join("")}</svg>`;
}

function percentileRow(name: string, p: Percentiles | undefined, unit = "ms"): string {
  if (!p) return "";
  return `<tr><td>${esc(name)}</td><td>${fmt(p.count)}</td><td>${fmt(p.p50, 3)}</td><td>${fmt(p.p95, 3)}</td><td>${fmt(p.p99, 3)}</td><td>${fmt(p.max, 3)}</td><td>${unit}</td></tr>`;
}

function seconds(p: Percentiles): Percentiles {
  const s = (ms: number) => Math.round(ms / 100) / 10;
  return { count: p.count, p50: s(p.p50), p95: s(p.p95), p99: s(p.p99), max: s(p.max), mean: s(p.mean) };
}

const WALL_PARTS: ReadonlyArray<readonly [string, string, string]> = [
  [
    "wallMsFanOut",
    "fan-out to other gates",
    "admission fan-out into the other gates' caches (recordRemoteEntries)",
  ],
  ["wallMsGateDecisions", "gate decisions", "gate decisions: report → decide → durable authorize → unlock"],
  ["wallMsServerIngest", "server ingest", "sync-server: verify and ingest the gates' batches"],
  ["wallMsOutbox", "gate outboxes", "gate outboxes: read and sign batches"],
  ["wallMsPhones", "simulated phones", "simulated phones: making the codes"],
  ["wallMsAcks", "acknowledgements", "gates: acknowledgements (acknowledgeOutbox)"],
  ["wallMsFeed", "ticket feed", "gates: ticket feed (applyChanges)"],
];

function wallBreakdown(r: RehearsalReport): string {
  const sync = r.sync ?? {};
  const parts = WALL_PARTS.map(([key, short, label]) => ({
    short,
    label,
    value: typeof sync[key] === "number" ? (sync[key] as number) / 1000 : 0,
  }));
  if (parts.every((p) => p.value === 0)) return "";
  const measured = parts.reduce((n, p) => n + p.value, 0);
  return `<h2>Where the wall time went</h2>
<p class="muted">Seconds of wall-clock time spent in each part of the ingress, summed over every thread; the rest (${fmt(Math.max(0, r.timing.wallMs / 1000 - measured), 1)} s of the ${fmt(r.timing.wallMs / 1000, 1)} s ingress in one thread) is the OSDP traffic, the turnstiles, the crowd, the clock and garbage collection.</p>
${hbarChart(parts.map((p) => ({ label: p.short, value: Math.round(p.value * 10) / 10, color: PALETTE[0] })))}
<ul>${parts.map((p) => `<li>${esc(p.label)}: ${fmt(p.value, 1)} s</li>`).join("")}</ul>`;
}

const OUTCOME_COLOR: Record<string, string> = { ADMIT: "#2ca02c", ASSISTED: "#ff7f0e", REFUSE: "#d62728" };
const ADMIT_REASONS = new Set([
  "ADMITTED",
  "ADMITTED_NEW_SALE",
  "EXIT_RECORDED",
  "EXIT_FINAL",
  "FREE_PASSAGE",
]);
const ASSISTED = new Set(["PRINTED_CONFIRMATION", "ID_CHECK_REQUIRED", "ACCESSIBILITY_ASSISTANCE"]);

export function renderReportHtml(r: RehearsalReport): string {
  const t = r.truth;
  const virtual = r.mode === "virtual";
  const card = (label: string, value: number, good?: boolean) =>
    `<div class="card ${good === undefined ? "" : good ? "good" : "bad"}"><div class="value">${fmt(value)}</div><div>${esc(label)}</div></div>`;
  const entranceColor = new Map(
    r.throughput.perEntrance.map((e, i) => [e.entrance, PALETTE[i % PALETTE.length]]),
  );
  const perMinute = r.throughput.perMinute;
  const queueSeries: Series[] = r.throughput.perEntrance.map((e, i) => ({
    name: `${e.entrance} (${e.lanes} lanes)`,
    points: r.queues.samples.map((s) => [s.minute, s.byEntrance[i] ?? 0] as const),
  }));
  const reasons = Object.entries(r.decisions.byReason).sort((a, b) => b[1] - a[1]);
  const profiles = Object.entries(r.people.byProfile).sort((a, b) => b[1].people - a[1].people);
  const params = Object.entries(r.parameters)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(String(v))}</td></tr>`)
    .join("");
  const hist = r.latency.histogram;
  const histBars: Bar[] = hist.counts.map((n, i) => ({
    label: i < hist.bounds.length ? `≤ ${hist.bounds[i]}` : `> ${hist.bounds[hist.bounds.length - 1]}`,
    value: n,
    color: PALETTE[2],
  }));
  const sync = r.sync
    ? Object.entries(r.sync)
        .map(
          ([k, v]) =>
            `<tr><td>${esc(k)}</td><td>${esc(typeof v === "number" ? fmt(v) : JSON.stringify(v))}</td></tr>`,
        )
        .join("")
    : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Sésame rehearsal — ${esc(r.mode)} — ${r.ok ? "PASS" : "FAIL"}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
main{max-width:940px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.pass{background:#2e7d32}.fail{background:#c62828}.muted{color:#6a737d}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.card{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:10px}
.card .value{font-size:22px;font-weight:600}.card.good{border-color:#2e7d32;background:#eef7ee}.card.bad{border-color:#c62828;background:#fdecec}
table{border-collapse:collapse;background:#fff;width:100%}td,th{border:1px solid #d8dde3;padding:3px 8px;text-align:left}
th{background:#eef1f4}td:not(:first-child){font-variant-numeric:tabular-nums}
svg{background:#fff;border:1px solid #d8dde3;border-radius:6px;font-size:11px;fill:#1b1f24}
svg .grid{stroke:#e6e9ed}svg .axis{stroke:#6a737d}svg .label{font-size:12px;fill:#444}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:4px 0}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
ul{margin:4px 0 0;padding-left:20px}
</style></head><body><main>
<h1>Sésame — match-day rehearsal <span class="verdict ${r.ok ? "pass" : "fail"}">${r.ok ? "PASS" : "FAIL"}</span></h1>
<p class="muted">${esc(r.mode === "virtual" ? "Virtual time" : "Real time, whole stack")} · generated ${esc(r.generatedAt)} · ${esc(r.machine.cpu)}, ${r.machine.cores} cores, Node ${esc(r.machine.node)}</p>

<h2>Against the simulator's ground truth</h2>
<div class="cards">
${card("false accepts", t.falseAccepts, t.falseAccepts === 0)}
${card("false refusals", t.falseRefusals, t.falseRefusals === 0)}
${card("lost events", t.lostEvents, t.lostEvents === 0)}
${card("double entries (server)", t.doubleEntries, t.doubleEntries === 0)}
${virtual ? card("wrong reasons", t.wrongReasons, t.wrongReasons === 0) : ""}
${virtual ? card(`annulled (${fmt(t.expectedAnnulled)} expected)`, t.annulled, t.annulled === t.expectedAnnulled) : card("annulled", t.annulled)}
</div>
<p class="muted">${
    virtual
      ? `Annulled authorizations: ${fmt(t.annulled)} recorded, ${fmt(t.expectedAnnulled)} caused by the crowd (holders who turned back after the unlock). Presentations never answered: ${fmt(t.noDecision)}. `
      : "In real time the Crowd's ground truth is admit or not (reasons are not checked; nobody turns back after an unlock). "
  }Events altered between gate and server: ${fmt(t.alteredEvents)}.</p>
${
  t.mismatches.length > 0
    ? `<table><tr><th>person</th><th>profile</th><th>what</th><th>expected</th><th>got</th><th>where</th><th>when</th></tr>${t.mismatches
        .map(
          (m) =>
            `<tr><td>${m.person}</td><td>${esc(m.profile)}</td><td>${esc(m.what)}</td><td>${esc(m.expected)}</td><td>${esc(m.got)}</td><td>${esc(`${m.gate ?? ""}/${m.lane ?? ""}`)}</td><td>${esc(m.at)}</td></tr>`,
        )
        .join("")}</table>`
    : ""
}

<h2>Summary</h2>
<div class="cards">
${card("people", r.people.total)}
${card("admitted", r.people.admitted)}
${card("not admitted", r.people.notAdmitted)}
${card("decisions", r.decisions.total)}
${card(virtual ? "simulated minutes" : "minutes", r.timing.simulatedMs / 60_000)}
${card("wall seconds", r.timing.wallMs / 1000)}
${virtual ? card("× faster than real time", r.timing.speedup) : ""}
${card("decisions per wall second", r.timing.decisionsPerWallSecond)}
</div>
<p class="muted">Set-up (venue, caches, server${virtual ? "" : ", gate processes"}) took ${fmt(r.timing.setupWallMs / 1000, 1)} s of wall time before the ingress.${virtual ? ` ${fmt(r.people.lastHalfShare * 100, 1)} % of arrivals fall in the second half of the arrival window before kick-off.` : ""}</p>

<h2>Arrivals and admissions per minute</h2>
${lineChart(
  [
    { name: "arrivals", points: perMinute.map((m) => [m.minute, m.arrivals] as const) },
    { name: "admitted", points: perMinute.map((m) => [m.minute, m.admitted] as const) },
  ],
  { xLabel: "minutes from the start of the arrival window", yLabel: "people per minute", area: true },
)}

<h2>Queue lengths over time</h2>
${lineChart(queueSeries, { xLabel: "minutes from the start of the arrival window", yLabel: "people queuing" })}
<p class="muted">Longest single-lane queue: ${fmt(r.queues.maxQueue)} people. Wait in the queue before showing the code:</p>
<table><tr><th></th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th></th></tr>${percentileRow("queue wait", seconds(r.queues.waitMs), "s")}</table>

<h2>Throughput per entrance</h2>
${barChart(
  r.throughput.perEntrance.map((e) => ({
    label: `${e.entrance} (${e.lanes})`,
    value: e.admitted,
    color: entranceColor.get(e.entrance) ?? PALETTE[0],
  })),
  { yLabel: "people admitted", labelEvery: 1 },
)}
<table><tr><th>entrance</th><th>lanes</th><th>arrived</th><th>admitted</th><th>not let through</th><th>peak / lane / hour</th><th>max queue</th></tr>
${r.throughput.perEntrance
  .map(
    (e) =>
      `<tr><td>${esc(`${e.entrance} — ${e.name}`)}</td><td>${e.lanes}</td><td>${fmt(e.arrived)}</td><td>${fmt(e.admitted)}</td><td>${fmt(e.refused)}</td><td>${fmt(e.peakPerLaneHour)}</td><td>${fmt(e.maxQueue)}</td></tr>`,
  )
  .join("")}</table>

<h2>Throughput per lane</h2>
${barChart(
  r.throughput.perLane.map((l) => ({
    label: `${l.gateId}/${l.lane}`,
    value: l.admitted,
    color: entranceColor.get(l.entrance) ?? PALETTE[0],
    title: `${l.gateId}/${l.lane} (entrance ${l.entrance}): ${l.admitted} admitted, ${l.refused} not let through, ${l.assisted} steward checks, ${l.scans} scans`,
  })),
  { yLabel: "people admitted" },
)}

<h2>Scan-to-unlock latency</h2>
<table><tr><th></th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th></th></tr>
${percentileRow("reader's report → unlock at the controller (wall clock)", r.latency.scanToUnlockMs)}
${percentileRow("reader's report → decision returned, all scans (wall clock)", r.latency.scanToDecisionMs)}
${percentileRow("code shown → unlock, incl. OSDP poll wait (virtual time)", r.latency.presentToUnlockMs)}
${percentileRow("entry at one gate → in another gate's cache (virtual time)", r.latency.fanOutMs)}
</table>
<p class="muted">Target (docs/design.md §11): scan bytes in → unlock command out p99 ≤ 2 ms; admission at gate A refused at gate B p99 ≤ 250 ms.</p>
${barChart(histBars, { yLabel: "unlocks", labelEvery: 1, height: 220 })}

<h2>Decisions by reason</h2>
${hbarChart(
  reasons.map(([reason, n]) => ({
    label: reason,
    value: n,
    color: OUTCOME_COLOR[ADMIT_REASONS.has(reason) ? "ADMIT" : ASSISTED.has(reason) ? "ASSISTED" : "REFUSE"],
  })),
)}

<h2>People by credential</h2>
<table><tr><th>profile</th><th>people</th><th>presentations</th><th>let through</th><th>not let through</th><th>reasons given</th></tr>
${profiles
  .map(
    ([name, p]) =>
      `<tr><td>${esc(name)}</td><td>${fmt(p.people)}</td><td>${fmt(p.presentations)}</td><td>${fmt(p.passed)}</td><td>${fmt(p.notPassed)}</td><td>${esc(
        Object.entries(p.reasons)
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
      )}</td></tr>`,
  )
  .join("")}</table>

${wallBreakdown(r)}

<h2>What is real, what is modeled</h2>
<h3>Real (the production code)</h3><ul>${r.real.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
<h3>Modeled</h3><ul>${r.modeled.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
${r.notes.length > 0 ? `<h3>Notes</h3><ul>${r.notes.map((s) => `<li><pre>${esc(s)}</pre></li>`).join("")}</ul>` : ""}

<h2>Parameters and counters</h2>
<table>${params}${sync}</table>
</main></body></html>
`;
}
