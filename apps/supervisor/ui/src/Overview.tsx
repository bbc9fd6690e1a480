import { ThroughputChart } from "./Chart.js";
import { gateHealth } from "./Gates.js";
import { useI18n } from "./i18n.js";
import type { LiveState } from "./live.js";
import type { ReasonText, VenueInfo } from "./types.js";

/** A count against its capacity: number, bar, and the tickets sold (whom to expect). */
function Gauge(props: {
  readonly value: number;
  readonly capacity?: number | undefined;
  readonly tickets?: number | undefined;
  readonly testId: string;
}) {
  const { t, number } = useI18n();
  const share = props.capacity ? Math.min(1, props.value / props.capacity) : 0;
  const level = share >= 0.95 ? "full" : share >= 0.8 ? "high" : "ok";
  return (
    <div className="gauge">
      <div className="gauge-text">
        <strong data-testid={props.testId}>{number(props.value)}</strong>
        {props.capacity !== undefined ? <span className="muted"> / {number(props.capacity)}</span> : null}
        {props.tickets !== undefined ? (
          <span className="muted small"> · {t("expectedOf", { tickets: number(props.tickets) })}</span>
        ) : null}
      </div>
      {props.capacity !== undefined ? (
        <meter
          className={`meter-${level}`}
          min={0}
          max={props.capacity}
          value={props.value}
          aria-label={t("ofCapacity", { value: props.value, capacity: props.capacity })}
        />
      ) : null}
    </div>
  );
}

export function Overview(props: {
  readonly venue: VenueInfo;
  readonly live: LiveState;
  readonly reasons: readonly ReasonText[];
  readonly now: number;
}) {
  const { t, number, language } = useI18n();
  const { venue, live } = props;
  const counts = live.counts;
  if (!counts) return <p className="muted">…</p>;
  const gates = Object.values(live.gates);
  const online = gates.filter((g) => gateHealth(g, props.now) === "online").length;
  const openAlerts = live.alerts.filter((a) => a.acknowledgedAt === null).length;
  const refusedTotal = Object.values(counts.refusalsByReason).reduce((a, b) => a + b, 0);
  const insideTotal = Object.values(counts.insideBySession).reduce((a, b) => a + b, 0);
  const alarmsTotal = Object.values(counts.alarmsByReason ?? {}).reduce((a, b) => a + b, 0);
  const refusals = Object.entries(counts.refusalsByReason).sort((a, b) => b[1] - a[1]);
  const topRefusal = refusals[0]?.[1] ?? 0;
  const reasonText = (code: string) =>
    props.reasons.find((r) => r.code === code)?.[language].headline ?? code;

  return (
    <div className="overview">
      <section className="kpis" aria-label={t("tabOverview")}>
        <div className="kpi">
          <span className="kpi-label">{t("entered")}</span>
          <strong data-testid="total-entered">{number(counts.entered)}</strong>
          <span className="muted small">
            {t("capacity")} {number(counts.capacity.venue)}
          </span>
        </div>
        <div className="kpi">
          <span className="kpi-label">{t("inside")}</span>
          <strong data-testid="total-inside">{number(insideTotal)}</strong>
        </div>
        <div className="kpi">
          <span className="kpi-label">{t("refused")}</span>
          <strong data-testid="total-refused">{number(refusedTotal)}</strong>
        </div>
        <div className={`kpi ${alarmsTotal > 0 ? "kpi-warn" : ""}`}>
          <span className="kpi-label">{t("alarms")}</span>
          <strong data-testid="total-alarms">{number(alarmsTotal)}</strong>
          <span className="muted small">
            {t("freePassages")} {number(counts.freePassages)}
          </span>
        </div>
        <div className={`kpi ${online < gates.length ? "kpi-warn" : ""}`}>
          <span className="kpi-label">{t("gatesOnline")}</span>
          <strong data-testid="gates-online">
            {online} / {gates.length}
          </strong>
        </div>
        <div className={`kpi ${openAlerts > 0 ? "kpi-alert" : ""}`}>
          <span className="kpi-label">{t("openAlerts")}</span>
          <strong data-testid="open-alerts">{openAlerts}</strong>
        </div>
      </section>

      <section className="card wide">
        <h2>{t("perMinute")}</h2>
        <ThroughputChart minutes={live.minutes} now={props.now} />
      </section>

      <section className="card">
        <h2>{t("sessions")}</h2>
        <table>
          <thead>
            <tr>
              <th>{t("session")}</th>
              <th>{t("entered")}</th>
              <th>{t("inside")}</th>
              <th>
                <span className="sr-only">CSV</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {venue.sessions.map((s) => (
              <tr key={s.id}>
                <td>
                  <strong>{s.code}</strong>
                  <div className="muted small">{s.name}</div>
                </td>
                <td>
                  <Gauge
                    testId={`count-session-${s.id}`}
                    value={counts.bySession[String(s.id)] ?? 0}
                    capacity={counts.capacity.bySession[String(s.id)]}
                    tickets={counts.tickets.bySession[String(s.id)] ?? 0}
                  />
                </td>
                <td data-testid={`inside-session-${s.id}`}>
                  {number(counts.insideBySession[String(s.id)] ?? 0)}
                </td>
                <td>
                  <a
                    className="button"
                    href={`api/export/entries.csv?session=${encodeURIComponent(String(s.id))}`}
                    download
                    title={t("exportCsvTitle")}
                    data-testid={`export-session-${s.id}`}
                  >
                    {t("exportCsv")}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>{t("entrances")}</h2>
        <table>
          <thead>
            <tr>
              <th>{t("entrance")}</th>
              <th>{t("entered")}</th>
            </tr>
          </thead>
          <tbody>
            {venue.entrances.map((e) => (
              <tr key={e.id}>
                <td>{e.name}</td>
                <td>
                  <Gauge
                    testId={`count-entrance-${e.code}`}
                    value={counts.byEntrance[String(e.id)] ?? 0}
                    capacity={counts.capacity.byEntrance[String(e.id)]}
                    tickets={counts.tickets.byEntrance[String(e.id)] ?? 0}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>{t("zones")}</h2>
        <table>
          <thead>
            <tr>
              <th>{t("zone")}</th>
              <th>{t("entered")}</th>
            </tr>
          </thead>
          <tbody>
            {venue.zones.map((z) => (
              <tr key={z.id}>
                <td>
                  <strong>{z.code}</strong> <span className="muted small">{z.name}</span>
                </td>
                <td>
                  <Gauge
                    testId={`count-zone-${z.code}`}
                    value={counts.byZone[String(z.id)] ?? 0}
                    capacity={counts.capacity.byZone[String(z.id)]}
                    tickets={counts.tickets.byZone[String(z.id)] ?? 0}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>{t("gates")}</h2>
        <table>
          <thead>
            <tr>
              <th>{t("gate")}</th>
              <th>{t("entrance")}</th>
              <th>{t("entered")}</th>
              <th>{t("status")}</th>
            </tr>
          </thead>
          <tbody>
            {venue.gates.map((g) => {
              const view = live.gates[g.id];
              const health = view ? gateHealth(view, props.now) : "unknown";
              return (
                <tr key={g.id}>
                  <td>
                    <strong>{g.id}</strong>
                  </td>
                  <td>{venue.entrances.find((e) => e.id === g.entrance)?.code ?? g.entrance}</td>
                  <td data-testid={`count-gate-${g.id}`}>{number(counts.byGate[g.id] ?? 0)}</td>
                  <td>
                    <span className={`status status-${health}`}>{t(health)}</span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      <section className="card">
        <h2>{t("refusalReasons")}</h2>
        {refusals.length === 0 ? (
          <p className="muted">{t("noRefusals")}</p>
        ) : (
          <table data-testid="refusal-reasons">
            <thead>
              <tr>
                <th>{t("reason")}</th>
                <th>{t("count")}</th>
              </tr>
            </thead>
            <tbody>
              {refusals.map(([code, n]) => (
                <tr key={code}>
                  <td>
                    {reasonText(code)} <code className="muted small">{code}</code>
                  </td>
                  <td>
                    <div className="gauge">
                      <strong data-testid={`refusals-${code}`}>{number(n)}</strong>
                      <meter
                        className="meter-refusal"
                        min={0}
                        max={topRefusal}
                        value={n}
                        aria-hidden="true"
                      />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
