import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Alerts } from "./Alerts.js";
import { call, HttpError, whenSignedOut } from "./api.js";
import { Commands } from "./Commands.js";
import { Gates } from "./Gates.js";
import { I18nContext, initialLanguage, type Language, makeI18n, saveLanguage, useI18n } from "./i18n.js";
import { useLive } from "./live.js";
import { Overview } from "./Overview.js";
import { SignIn } from "./SignIn.js";
import type { Me, ReasonText, VenueInfo } from "./types.js";

type Tab = "overview" | "alerts" | "gates" | "commands";

function LanguageSwitch(props: { readonly language: Language; readonly onChange: (l: Language) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="language">
      <legend className="sr-only">{t("language")}</legend>
      {(["fr", "en"] as const).map((l) => (
        <button
          key={l}
          type="button"
          aria-pressed={props.language === l}
          className={props.language === l ? "selected" : ""}
          onClick={() => props.onChange(l)}
          lang={l}
        >
          {l.toUpperCase()}
        </button>
      ))}
    </fieldset>
  );
}

/** Re-renders every `ms` so that ages and the chart's window move on. */
function useTick(ms: number): number {
  const [tick, setTick] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

function Dashboard(props: {
  readonly me: Me;
  readonly venue: VenueInfo;
  readonly reasons: readonly ReasonText[];
  readonly language: Language;
  readonly onLanguage: (l: Language) => void;
  readonly onSignOut: () => void;
}) {
  const { t } = useI18n();
  const { state, alertChanged, commandsSent } = useLive();
  const [tab, setTab] = useState<Tab>("overview");
  const tick = useTick(5000);
  const now = tick + state.serverOffsetMs;
  const openAlerts = state.alerts.filter((a) => a.acknowledgedAt === null).length;
  const roleLabel = t(
    props.me.role === "supervisor" ? "roleSupervisor" : props.me.role === "tech" ? "roleTech" : "roleAdmin",
  );
  const tabs: ReadonlyArray<{ id: Tab; label: string; badge?: number }> = [
    { id: "overview", label: t("tabOverview") },
    { id: "alerts", label: t("tabAlerts"), badge: openAlerts },
    { id: "gates", label: t("tabGates") },
    { id: "commands", label: t("tabCommands") },
  ];
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <strong>Sésame</strong> · {t("appTitle")} · <span>{props.venue.name}</span>
        </div>
        <span className={`live ${state.connected ? "live-on" : "live-off"}`} data-testid="live" role="status">
          {state.connected ? t("live") : t("reconnecting")}
        </span>
        <span className="who" data-testid="who">
          {props.me.name} ({roleLabel})
        </span>
        <LanguageSwitch language={props.language} onChange={props.onLanguage} />
        <button type="button" onClick={props.onSignOut}>
          {t("signOut")}
        </button>
      </header>
      <div className="tabs" role="tablist">
        {tabs.map((x) => (
          <button
            key={x.id}
            type="button"
            role="tab"
            aria-selected={tab === x.id}
            className={tab === x.id ? "selected" : ""}
            onClick={() => setTab(x.id)}
            data-testid={`tab-${x.id}`}
          >
            {x.label}
            {x.badge ? <span className="tab-badge">{x.badge}</span> : null}
          </button>
        ))}
      </div>
      <main role="tabpanel">
        {tab === "overview" ? (
          <Overview venue={props.venue} live={state} reasons={props.reasons} now={now} />
        ) : null}
        {tab === "alerts" ? <Alerts me={props.me} alerts={state.alerts} onChanged={alertChanged} /> : null}
        {tab === "gates" ? <Gates venue={props.venue} gates={state.gates} now={now} me={props.me} /> : null}
        {tab === "commands" ? (
          <Commands
            me={props.me}
            venue={props.venue}
            gates={state.gates}
            commands={state.commands}
            now={now}
            onSent={commandsSent}
          />
        ) : null}
      </main>
    </div>
  );
}

export function App() {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  /** undefined while we ask the server whether this browser is signed in. */
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [venue, setVenue] = useState<VenueInfo | undefined>();
  const [reasons, setReasons] = useState<readonly ReasonText[]>([]);
  const [notice, setNotice] = useState<string | undefined>();
  const i18n = useMemo(() => makeI18n(language, venue?.timezone), [language, venue?.timezone]);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const current = useRef(me);
  current.current = me;
  const signedOut = useCallback(() => {
    if (current.current) setNotice(makeI18n(language, undefined).t("sessionExpired"));
    setMe(null);
  }, [language]);

  useEffect(() => {
    whenSignedOut(signedOut);
    return () => whenSignedOut(undefined);
  }, [signedOut]);

  useEffect(() => {
    call<Me>("GET", "session")
      .then(setMe)
      .catch(() => setMe(null));
  }, []);

  useEffect(() => {
    if (!me) return;
    Promise.all([
      call<{ venue: VenueInfo }>("GET", "venue"),
      call<{ reasons: ReasonText[] }>("GET", "reasons"),
    ])
      .then(([v, r]) => {
        setVenue(v.venue);
        setReasons(r.reasons);
        document.title = `Sésame — ${v.venue.name}`;
      })
      .catch((error: unknown) => {
        if (!(error instanceof HttpError && error.status === 401)) setNotice(String(error));
      });
  }, [me]);

  const changeLanguage = (l: Language) => {
    setLanguage(l);
    saveLanguage(l);
  };

  const signOut = () => {
    call("DELETE", "session")
      .catch(() => undefined)
      .finally(() => {
        setMe(null);
        setVenue(undefined);
        setNotice(undefined);
      });
  };

  return (
    <I18nContext.Provider value={i18n}>
      {me === undefined ? null : me === null ? (
        <>
          <div className="signin-language">
            <LanguageSwitch language={language} onChange={changeLanguage} />
          </div>
          <SignIn
            notice={notice}
            onSignedIn={(m) => {
              setNotice(undefined);
              setMe(m);
            }}
          />
        </>
      ) : venue ? (
        <Dashboard
          me={me}
          venue={venue}
          reasons={reasons}
          language={language}
          onLanguage={changeLanguage}
          onSignOut={signOut}
        />
      ) : (
        <p className="muted loading">…</p>
      )}
    </I18nContext.Provider>
  );
}
