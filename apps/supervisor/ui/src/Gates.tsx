import { useState } from "react";
import { call, HttpError } from "./api.js";
import { Confirm } from "./Confirm.js";
import { useI18n } from "./i18n.js";
import type { GateView, Me, VenueInfo } from "./types.js";

/** Gates heartbeat every 5 s; the server raises its own alert after 20 s of silence. */
const SILENT_AFTER_MS = 20_000;

export type GateHealth = "online" | "offline" | "silent" | "unknown" | "notProvisioned" | "quarantined";

export function gateHealth(g: GateView, now: number): GateHealth {
  if (!g.provisioned) return "notProvisioned";
  if (g.quarantine) return "quarantined";
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

/** A supervisor quarantines a gate (its key is taken): asked for a reason, then sent to the server. */
function QuarantineDialog(props: {
  readonly gateId: string;
  readonly onDone: (gate: GateView | undefined) => void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call<{ gate: GateView }>(
        "POST",
        `gates/${encodeURIComponent(props.gateId)}/quarantine`,
        {
          reason,
        },
      );
      props.onDone(r.gate);
    } catch (err) {
      setBusy(false);
      setError(
        t("errorPrefix", {
          message: err instanceof HttpError || err instanceof Error ? err.message : String(err),
        }),
      );
    }
  };
  return (
    <Confirm
      title={t("confirmQuarantine", { gate: props.gateId })}
      danger
      busy={busy}
      error={error}
      onConfirm={() => void send()}
      onCancel={() => props.onDone(undefined)}
    >
      <p>{t("quarantineExplain")}</p>
      <label>
        {t("quarantineReason")}
        <input
          data-testid="quarantine-reason"
          value={reason}
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
    </Confirm>
  );
}

export function Gates(props: {
  readonly venue: VenueInfo;
  readonly gates: Readonly<Record<string, GateView>>;
  readonly now: number;
  readonly me: Me;
  /** A gate as the server answered after a change (the live stream brings it too). */
  readonly onChanged?: (gate: GateView) => void;
}) {
  const { t, number, seconds, time } = useI18n();
  const [quarantining, setQuarantining] = useState<string | undefined>();
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
            <th>{t("provisioned")}</th>
            <th>{t("quarantine")}</th>
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
                <td className={hb?.offlinePeripherals?.length ? "warn" : ""}>
                  {info.lanes}
                  {/* What a tech must go and fix at the lanes: a controller or reader offline, and why. */}
                  {(hb?.offlinePeripherals ?? []).map((p) => (
                    <div
                      key={`${p.lane}-${p.peripheral}`}
                      data-testid={`gate-peripheral-${info.id}-${p.lane}-${p.peripheral}`}
                    >
                      {t(`peripheralOffline_${p.peripheral}`, { lane: p.lane, reason: p.reason })}
                    </div>
                  ))}
                </td>
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
                <td
                  data-testid={`gate-provisioned-${info.id}`}
                  className={g?.provisioning?.forced ? "warn" : ""}
                >
                  {g?.provisioning
                    ? `${t("provisionedBy", { by: g.provisioning.by || "?", time: time(g.provisioning.at) })}${
                        g.provisioning.forced ? ` (${t("provisionedForced")})` : ""
                      }`
                    : "—"}
                </td>
                <td data-testid={`gate-quarantine-${info.id}`}>
                  {g?.quarantine ? (
                    <span className="warn">
                      {t("quarantinedBy", {
                        by: g.quarantine.by,
                        time: time(g.quarantine.at),
                        reason: g.quarantine.reason,
                      })}
                    </span>
                  ) : props.me.role === "supervisor" && g?.provisioned ? (
                    <button type="button" className="danger" onClick={() => setQuarantining(info.id)}>
                      {t("quarantineGate")}
                    </button>
                  ) : (
                    "—"
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {quarantining ? (
        <QuarantineDialog
          gateId={quarantining}
          onDone={(gate) => {
            setQuarantining(undefined);
            if (gate) props.onChanged?.(gate);
          }}
        />
      ) : null}
    </section>
  );
}
