import { formatAge, formatOffset, type Translate } from "./i18n.js";
import { dataAgeMs } from "./screens.js";
import type { KioskSettings } from "./settings.js";
import type { KioskState, Language } from "./types.js";

/* What a venue tech asks a steward to read out over the radio: data age, versions, links, devices. */

interface DiagnosticsProps {
  readonly t: Translate;
  readonly language: Language;
  readonly state: KioskState;
  readonly now: number;
  readonly settings: KioskSettings;
  readonly wedgeLane: number;
  readonly timeOf: (ms: number) => string;
}

export function Diagnostics({ t, language, state, now, settings, wedgeLane, timeOf }: DiagnosticsProps) {
  const d = state.diagnostics;
  const sync = d.sync;
  const age = dataAgeMs(d, now);
  const bundleAt = Date.parse(d.bundleGeneratedAt);
  const ago = (ms: number) => t("ago", { age: formatAge(now - ms, language) });
  const rows: Array<[key: string, label: string, value: string, bad?: boolean]> = [
    [
      "data-age",
      t("diagData"),
      age === undefined ? "—" : formatAge(age, language),
      age !== undefined && age > 15 * 60_000,
    ],
    [
      "last-contact",
      t("diagLastContact"),
      sync?.lastServerContactAt !== undefined
        ? `${timeOf(sync.lastServerContactAt)} (${ago(sync.lastServerContactAt)})`
        : t("never"),
    ],
    ["bundle", t("diagBundle"), Number.isNaN(bundleAt) ? "—" : `${timeOf(bundleAt)} (${ago(bundleAt)})`],
    ["feed-sequence", t("diagFeed"), String(sync?.feedSequence ?? d.feedSequence)],
    ["trust-list", t("diagTrust"), String(d.trustListVersion)],
    [
      "clock-offset",
      t("diagClock"),
      sync?.clockOffsetMs !== undefined ? formatOffset(sync.clockOffsetMs) : "—",
    ],
    ["clock-suspect", t("diagClockSuspect"), d.clockSuspect ? t("yes") : t("no"), d.clockSuspect],
    [
      "outbox",
      t("diagOutbox"),
      `${d.outboxDepth}${sync ? ` (${sync.inFlightEvents} ${t("diagInFlight")})` : ""}`,
      d.outboxDepth > 1000,
    ],
    [
      "broker",
      t("diagBroker"),
      sync
        ? `${sync.connected ? t("diagConnected") : t("diagDisconnected")} — ${sync.brokerUrl}`
        : t("diagNoSync"),
      sync ? !sync.connected : false,
    ],
  ];
  const scanners = d.scanners ?? [];
  return (
    <section className="diagnostics" aria-label={t("diagTitle")}>
      <h2>{t("diagTitle")}</h2>
      <table>
        <tbody>
          {rows.map(([key, label, value, bad]) => (
            <tr key={key} data-diag={key} className={bad ? "bad" : undefined}>
              <th scope="row">{label}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>{t("diagLanes")}</h3>
      <table>
        <tbody>
          {state.lanes.map((l) => (
            <tr
              key={l.lane}
              data-diag={`lane-${l.lane}`}
              className={l.controllerOnline === false ? "bad" : undefined}
            >
              <th scope="row">{t("lane", { lane: l.lane })}</th>
              <td>
                {l.controllerOnline === undefined
                  ? t("controllerNone")
                  : l.controllerOnline
                    ? t("controllerOnline")
                    : t("controllerOffline")}
                {l.controllerOnline === false && l.controllerDetail ? ` — ${l.controllerDetail}` : ""} ·{" "}
                {t(`mode_${l.mode}`)}
                {l.fireAlarm ? ` · ${t("fireAlarmShort")}` : ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>{t("diagScanners")}</h3>
      <table>
        <tbody>
          {scanners.length === 0 ? (
            <tr>
              <td>{t("diagNoScanners")}</td>
            </tr>
          ) : null}
          {scanners.map((s, index) => (
            <tr
              // Two scanners may serve one lane; their order is the composition root's.
              key={`${s.lane}-${s.kind}-${s.path ?? index}`}
              data-diag={`scanner-${s.lane}-${s.kind}`}
              className={s.status === "ok" ? undefined : "bad"}
            >
              <th scope="row">
                {t("lane", { lane: s.lane })} · {s.kind}
              </th>
              <td>
                {t(`scanner_${s.status}`)}
                {s.path ? ` — ${s.path}` : ""}
                {s.detail ? ` — ${s.detail}` : ""}
              </td>
            </tr>
          ))}
          <tr data-diag="wedge">
            <td colSpan={2}>
              {t("diagWedge", { lane: wedgeLane, layout: t(`layout_${settings.scannerLayout}`) })}
            </td>
          </tr>
        </tbody>
      </table>

      {state.notices.length > 0 ? (
        <>
          <h3>{t("diagNotices")}</h3>
          <ul className="diag-notices">
            {state.notices.map((n) => (
              <li key={n.id}>
                {timeOf(n.at)} · {n.by} — {n.text}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
