import { useState } from "react";
import { call, HttpError } from "./api.js";
import { type MessageKey, useI18n } from "./i18n.js";
import type { Alert, AlertType, Me } from "./types.js";

/** Technical alerts a tech may acknowledge (the server enforces the same rule). */
const TECH_ALERTS: ReadonlySet<AlertType> = new Set(["gate-offline", "clock-skew", "lane-offline"]);

export function alertTypeKey(type: AlertType): MessageKey {
  return `alertType_${type}`;
}

export function Alerts(props: {
  readonly me: Me;
  readonly alerts: readonly Alert[];
  readonly onChanged: (alert: Alert) => void;
}) {
  const { t, time } = useI18n();
  const [busy, setBusy] = useState<number | undefined>();
  const [error, setError] = useState<string | undefined>();
  const open = props.alerts.filter((a) => a.acknowledgedAt === null);
  const done = props.alerts.filter((a) => a.acknowledgedAt !== null);

  const acknowledge = async (alert: Alert) => {
    setBusy(alert.id);
    setError(undefined);
    try {
      const r = await call<{ alert: Alert }>("POST", `alerts/${alert.id}/ack`, {});
      props.onChanged(r.alert);
    } catch (err) {
      // 409: someone else was quicker; the stream brings their acknowledgement.
      if (!(err instanceof HttpError && err.status === 409))
        setError(t("errorPrefix", { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(undefined);
    }
  };

  const row = (a: Alert) => {
    const mayAck = props.me.role === "supervisor" || (props.me.role === "tech" && TECH_ALERTS.has(a.type));
    return (
      <li
        key={a.id}
        className={`alert alert-${a.type} ${a.acknowledgedAt === null ? "alert-open" : "alert-done"}`}
        data-testid={`alert-${a.id}`}
        data-state={a.acknowledgedAt === null ? "open" : "acknowledged"}
      >
        <div className="alert-head">
          <span className="alert-type">{t(alertTypeKey(a.type))}</span>
          <span className="muted">{time(a.at)}</span>
          {a.gates.length > 0 ? <span className="muted">· {a.gates.join(", ")}</span> : null}
          {a.count > 1 ? (
            <span className="alert-count" data-testid={`alert-count-${a.id}`}>
              {t("occurrences", { count: String(a.count), time: time(a.lastAt) })}
            </span>
          ) : null}
        </div>
        <div className="alert-detail">{a.detail}</div>
        <div className="alert-foot">
          {a.acknowledgedAt === null ? (
            <>
              <span className="badge badge-open">{t("open")}</span>
              <button
                type="button"
                onClick={() => acknowledge(a)}
                disabled={!mayAck || busy === a.id}
                title={mayAck ? undefined : t("ackTechOnly")}
              >
                {t("acknowledge")}
              </button>
              {mayAck ? null : <span className="muted small">{t("ackTechOnly")}</span>}
            </>
          ) : (
            <span className="badge badge-done">
              {t("acknowledged", { by: a.acknowledgedBy ?? "?", time: time(a.acknowledgedAt) })}
            </span>
          )}
        </div>
      </li>
    );
  };

  return (
    <section className="card wide">
      <h2>
        {t("tabAlerts")} <span className="muted">({open.length})</span>
      </h2>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {props.alerts.length === 0 ? <p className="muted">{t("noAlerts")}</p> : null}
      <ul className="alerts" data-testid="alerts">
        {open.map(row)}
        {done.map(row)}
      </ul>
    </section>
  );
}
