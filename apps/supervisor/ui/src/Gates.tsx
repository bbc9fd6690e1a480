import { useI18n } from "./i18n.js";
import type { GateView, VenueInfo } from "./types.js";

/** Gates heartbeat every 5 s; the server raises its own alert after 20 s of silence. */
const SILENT_AFTER_MS = 20_000;

export type GateHealth = "online" | "offline" | "silent" | "unknown" | "notProvisioned";

export function gateHealth(g: GateView, now: number): GateHealth {
  if (!g.provisioned) return "notProvisioned";
  if (g.status === "offline") return "offline";
  if (g.status === "unknown") return "unknown";
  const lastHeard = Math.max(g.heartbeat?.receivedAt ?? 0, g.statusAt ?? 0);
  return now - lastHeard > SILENT_AFTER_MS ? "silent" : "online";
}

export function Ago(props: { readonly at: number | null | undefined; readonly now: number }) {
  const { t, time } = useI18n();
  if (props.at === null || props.at === undefined) return <span className="muted">{t("never")}</span>;
  const seconds = Math.max(0, Math.round((props.now - props.at) / 1000));
  return (
    <span title={time(props.at)}>
      {seconds < 120 ? t("agoSeconds", { n: seconds }) : t("agoMinutes", { n: Math.round(seconds / 60) })}
    </span>
  );
}

export function Gates(props: {
  readonly venue: VenueInfo;
  readonly gates: Readonly<Record<string, GateView>>;
  readonly now: number;
}) {
  const { t, number, seconds } = useI18n();
  return (
    <section className="card wide">
      <h2>{t("tabGates")}</h2>
      <table className="gates" data-testid="gate-health">
        <thead>
          <tr>
            <th>{t("gate")}</th>
            <th>{t("entrance")}</th>
            <th>{t("lanes")}</th>
            <th>{t("status")}</th>
            <th>{t("lastHeartbeat")}</th>
            <th>{t("outbox")}</th>
            <th>{t("ackedSeq")}</th>
            <th>{t("clockOffset")}</th>
            <th>{t("dataAge")}</th>
          </tr>
        </thead>
        <tbody>
          {props.venue.gates.map((info) => {
            const g = props.gates[info.id];
            const health = g ? gateHealth(g, props.now) : "unknown";
            const hb = g?.heartbeat ?? null;
            const skewed = hb?.clockOffsetMs !== undefined && Math.abs(hb.clockOffsetMs) > 10_000;
            const backlog = (hb?.outboxDepth ?? 0) > 0;
            return (
              <tr key={info.id} data-testid={`gate-row-${info.id}`} className={`row-${health}`}>
                <td>
                  <strong>{info.id}</strong>
                </td>
                <td>{props.venue.entrances.find((e) => e.id === info.entrance)?.name ?? info.entrance}</td>
                <td>{info.lanes}</td>
                <td>
                  <span className={`status status-${health}`} data-testid={`gate-status-${info.id}`}>
                    {t(health)}
                  </span>
                </td>
                <td>
                  <Ago at={hb?.receivedAt} now={props.now} />
                </td>
                <td className={backlog ? "warn" : ""}>{hb ? number(hb.outboxDepth) : "—"}</td>
                <td>
                  {g ? number(g.ackedGateSeq) : "—"} / {hb ? number(hb.ackedGateSeq) : "—"}
                </td>
                <td className={skewed ? "warn" : ""}>
                  {hb?.clockOffsetMs === undefined ? "—" : seconds(hb.clockOffsetMs, true)}
                </td>
                <td>{hb?.dataAgeMs === undefined ? "—" : seconds(hb.dataAgeMs)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
