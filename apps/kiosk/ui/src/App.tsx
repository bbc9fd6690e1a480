import { attachWedgeCapture, ScanDebouncer, type ScanEvent } from "@sesame/scanner/browser";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, useLiveState, useTick } from "./api.js";
import { Camera } from "./Camera.js";
import { Diagnostics } from "./Diagnostics.js";
import { formatAge, translator } from "./i18n.js";
import { LanePanel } from "./LanePanel.js";
import { Lookup } from "./Lookup.js";
import { PinPad } from "./PinPad.js";
import { Settings } from "./Settings.js";
import { dataAgeMs, displayScreen, isOffline, soundsFor } from "./screens.js";
import { type KioskSettings, loadSettings, saveSettings } from "./settings.js";
import { play } from "./sound.js";
import type { KioskState, LaneMode, LaneView } from "./types.js";

type Drawer = "lookup" | "diagnostics" | "settings";

export function App() {
  const [generation, setGeneration] = useState(0);
  const [settings, setSettings] = useState<KioskSettings>(() => loadSettings());
  const [checking, setChecking] = useState<Readonly<Record<number, number>>>({});
  const [drawer, setDrawer] = useState<Drawer>();
  const [pinFor, setPinFor] = useState<{ readonly after?: () => Promise<void> }>();
  const [error, setError] = useState<string>();
  const [scannerProblemAt, setScannerProblemAt] = useState<number>();
  const previousLanes = useRef<readonly LaneView[]>(undefined);
  const soundOn = useRef(settings.sound);
  soundOn.current = settings.sound;

  const onState = useCallback((next: KioskState) => {
    for (const sound of soundsFor(previousLanes.current, next.lanes)) if (soundOn.current) play(sound);
    previousLanes.current = next.lanes;
  }, []);
  const live = useLiveState(generation, onState);
  useTick(1000);
  const state = live.state;

  // The wedge lane: this screen's choice when it names a lane of the gate, else the gate's setting.
  const wedgeLane =
    settings.wedgeLane !== undefined && state?.lanes.some((l) => l.lane === settings.wedgeLane)
      ? settings.wedgeLane
      : (state?.settings.wedgeLane ?? 1);
  const wedgeLaneRef = useRef(wedgeLane);
  wedgeLaneRef.current = wedgeLane;
  const debouncer = useMemo(() => new ScanDebouncer(), []);

  const changeSettings = (next: KioskSettings) => {
    saveSettings(next);
    setSettings(next);
  };

  const submitScan = useCallback(
    (lane: number, event: ScanEvent) => {
      if (event.content.kind === "empty") return;
      if (!debouncer.check(String(lane), event.text, Date.now()).accepted) return;
      setChecking((c) => ({ ...c, [lane]: (c[lane] ?? 0) + 1 }));
      api("POST", "/api/scan", { lane, text: event.text })
        .then(() => setError(undefined))
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
        .finally(() => setChecking((c) => ({ ...c, [lane]: Math.max(0, (c[lane] ?? 1) - 1) })));
    },
    [debouncer],
  );

  // Keyboard-wedge scanner: caught before any field sees the keys, whichever field has focus.
  useEffect(() => {
    const capture = attachWedgeCapture(window, {
      lane: "wedge",
      scannerLayout: settings.scannerLayout,
      ...(settings.wedgeMaxGapMs !== undefined ? { timing: { maxGapMs: settings.wedgeMaxGapMs } } : {}),
      onScan: (event) => submitScan(wedgeLaneRef.current, event),
      onProblem: (problem) => {
        if (problem.code === "undecodable-keys") setScannerProblemAt(performance.now());
      },
    });
    return () => capture.detach();
  }, [settings.scannerLayout, settings.wedgeMaxGapMs, submitScan]);

  /** Runs a steward action now, or after a PIN sign-in; a lapsed session asks for the PIN again. */
  const withSteward = useCallback(
    (action: () => Promise<void>) => {
      const run = () =>
        action().catch((e: unknown) => {
          if (e instanceof ApiError && e.status === 401) setPinFor({ after: action });
          else setError(e instanceof Error ? e.message : String(e));
        });
      if (state?.steward) void run();
      else setPinFor({ after: action });
    },
    [state?.steward],
  );

  if (!state) {
    return (
      <div className="kiosk loading">
        <p>{live.connected ? "…" : "Sésame — connexion au portique… / connecting to the gate…"}</p>
      </div>
    );
  }

  const language = state.language;
  const t = translator(language);
  // The gate's clock: the state's time plus what elapsed here since it arrived.
  const now = state.at + (performance.now() - live.receivedAt);
  const timeOf = (ms: number) =>
    new Intl.DateTimeFormat(language === "fr" ? "fr-FR" : "en-GB", {
      timeZone: state.venue.timezone,
      hour: "2-digit",
      minute: "2-digit",
    }).format(new Date(ms));
  const clock = new Intl.DateTimeFormat(language === "fr" ? "fr-FR" : "en-GB", {
    timeZone: state.venue.timezone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(new Date(now));

  const laneAction = (lane: number, action: string, body: unknown = {}) =>
    withSteward(async () => {
      await api("POST", `/api/lanes/${lane}/${action}`, body);
    });
  const setLanguage = (next: "fr" | "en") =>
    void api("POST", "/api/language", { language: next }).catch((e: unknown) =>
      setError(e instanceof Error ? e.message : String(e)),
    );
  const signOut = () =>
    void api("DELETE", "/api/session")
      .catch(() => undefined)
      .finally(() => {
        setDrawer((d) => (d === "diagnostics" ? d : undefined));
        setGeneration((g) => g + 1);
      });
  const openDrawer = (which: Drawer) => {
    if (drawer === which) setDrawer(undefined);
    else if (which === "diagnostics") setDrawer(which);
    else withSteward(async () => setDrawer(which));
  };

  const notice = state.notices.find((n) => !n.dismissed);
  const age = dataAgeMs(state.diagnostics, now);
  const offline = isOffline(state.diagnostics);
  const problemShown = scannerProblemAt !== undefined && performance.now() - scannerProblemAt < 8_000;

  return (
    <div className="kiosk" lang={language}>
      <header className="topbar">
        <div className="brand">{t("appTitle")}</div>
        <div className="where">
          <strong>{t("gate", { gate: state.gate.id })}</strong>
          <span>
            {t("entrance", { code: state.gate.entrance.code })} — {state.gate.entrance.name}
          </span>
          <span className="sessions">
            {state.sessions.length > 0 ? state.sessions.map((s) => s.name).join(" · ") : t("noSession")}
          </span>
        </div>
        <div className="clock">{clock}</div>
        <nav className="actions">
          <button
            type="button"
            aria-pressed={drawer === "lookup"}
            onClick={() => openDrawer("lookup")}
            data-action="lookup"
          >
            {t("lookup")}
          </button>
          <button
            type="button"
            aria-pressed={drawer === "diagnostics"}
            onClick={() => openDrawer("diagnostics")}
            data-action="diagnostics"
          >
            {t("diagnostics")}
          </button>
          <button
            type="button"
            aria-pressed={drawer === "settings"}
            onClick={() => openDrawer("settings")}
            data-action="settings"
          >
            {t("settings")}
          </button>
          <fieldset className="language" aria-label={t("language")}>
            <button
              type="button"
              aria-pressed={language === "fr"}
              onClick={() => setLanguage("fr")}
              lang="fr"
            >
              FR
            </button>
            <button
              type="button"
              aria-pressed={language === "en"}
              onClick={() => setLanguage("en")}
              lang="en"
            >
              EN
            </button>
          </fieldset>
          {state.steward ? (
            <button type="button" className="steward" onClick={signOut} data-action="sign-out">
              <span className="steward-name">{state.steward.name}</span>
              <span>{t("signOut")}</span>
            </button>
          ) : (
            <button type="button" className="primary" onClick={() => setPinFor({})} data-action="sign-in">
              {t("signIn")}
            </button>
          )}
        </nav>
      </header>

      {!live.connected ? (
        <div className="banner banner-lost" role="alert">
          {t("backendLost")}
        </div>
      ) : null}
      {offline ? (
        <div className="banner banner-offline" role="alert" data-banner="offline">
          <strong>{t("offline")}</strong>
          {age !== undefined ? <span> · {t("dataAge", { age: formatAge(age, language) })}</span> : null}
        </div>
      ) : null}
      {state.diagnostics.clockSuspect ? (
        <div className="banner banner-warn" role="alert">
          {t("clockSuspect")}
        </div>
      ) : null}
      {problemShown ? (
        <div className="banner banner-warn" role="alert">
          {t("scannerProblem")}
        </div>
      ) : null}
      {error ? (
        <div className="banner banner-warn" role="alert">
          {t("error", { error })}
          <button type="button" className="secondary" onClick={() => setError(undefined)}>
            {t("close")}
          </button>
        </div>
      ) : null}
      {notice ? (
        <div className="notice" role="alert" data-notice={notice.id}>
          <div className="notice-from">{t("noticeFrom", { by: notice.by, time: timeOf(notice.at) })}</div>
          <div className="notice-text">{notice.text}</div>
          <button
            type="button"
            className="big"
            onClick={() =>
              withSteward(async () => {
                await api("POST", "/api/notices/dismiss", { id: notice.id });
              })
            }
          >
            {t("noticeDismiss")}
          </button>
        </div>
      ) : null}

      <main className={drawer ? "body with-drawer" : "body"}>
        <section className={`lanes lanes-${state.lanes.length}`}>
          {state.lanes.map((view) => (
            <LanePanel
              key={view.lane}
              view={view}
              display={displayScreen(view, {
                checking: (checking[view.lane] ?? 0) > 0,
                shownForMs: now - view.since,
              })}
              state={state}
              language={language}
              t={t}
              onConfirm={(lane) => laneAction(lane, "confirm", { idChecked: true })}
              onDecline={(lane) => laneAction(lane, "decline")}
              onPassage={(lane) => laneAction(lane, "passage")}
            />
          ))}
        </section>
        {drawer ? (
          <aside className="drawer" data-drawer={drawer}>
            <button type="button" className="drawer-close secondary" onClick={() => setDrawer(undefined)}>
              {t("close")}
            </button>
            {drawer === "lookup" ? (
              <Lookup
                t={t}
                language={language}
                state={state}
                defaultLane={wedgeLane}
                withSteward={withSteward}
                timeOf={timeOf}
              />
            ) : drawer === "diagnostics" ? (
              <Diagnostics
                t={t}
                language={language}
                state={state}
                now={now}
                settings={settings}
                wedgeLane={wedgeLane}
                timeOf={timeOf}
              />
            ) : (
              <Settings
                t={t}
                state={state}
                settings={settings}
                wedgeLane={wedgeLane}
                onChange={changeSettings}
                onLaneMode={(lane: number, mode: LaneMode) => laneAction(lane, "mode", { mode })}
              />
            )}
          </aside>
        ) : null}
      </main>

      {settings.cameraLane !== undefined && state.lanes.some((l) => l.lane === settings.cameraLane) ? (
        <Camera lane={settings.cameraLane} t={t} onScan={submitScan} />
      ) : null}

      {pinFor ? (
        <PinPad
          t={t}
          now={now}
          lockedUntil={state.signIn.lockedUntil}
          onCancel={() => setPinFor(undefined)}
          onSignedIn={() => {
            const after = pinFor.after;
            setPinFor(undefined);
            // The event stream carries the steward of its cookie: open it again with the new one.
            setGeneration((g) => g + 1);
            if (after) {
              after().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
            }
          }}
        />
      ) : null}
    </div>
  );
}
