import type { CSSProperties } from "react";
import type { Translate } from "./i18n.js";
import type { DisplayScreen } from "./screens.js";
import type { Decision, KioskState, LaneView, Language } from "./types.js";

/*
 * One lane, one panel: a colour and one big word that read from two metres, then the detail the
 * steward needs (seat, reason, what to tell the holder, whose ID to check).
 */

interface LanePanelProps {
  readonly view: LaneView;
  readonly display: DisplayScreen;
  readonly state: KioskState;
  readonly language: Language;
  readonly t: Translate;
  readonly onConfirm: (lane: number) => void;
  readonly onDecline: (lane: number) => void;
  readonly onPassage: (lane: number) => void;
}

const SYMBOL: Record<DisplayScreen, string> = {
  ready: "",
  checking: "…",
  admit: "✓",
  refuse: "✗",
  assisted: "!",
  "awaiting-passage": "→",
  "out-of-order": "⚠",
  "fire-alarm": "⚠",
  "free-passage": "↑",
  locked: "✗",
};

export function LanePanel({
  view,
  display,
  state,
  language,
  t,
  onConfirm,
  onDecline,
  onPassage,
}: LanePanelProps) {
  const word: Record<DisplayScreen, string> = {
    ready: t("readyWord"),
    checking: t("checkingWord"),
    admit: t("admitWord"),
    refuse: t("refuseWord"),
    assisted: t("assistedWord"),
    "awaiting-passage": t("awaitingWord"),
    "out-of-order": t("outOfOrderWord"),
    "fire-alarm": t("fireAlarmWord"),
    "free-passage": t("freePassageWord"),
    locked: t("lockedWord"),
  };
  const decision = view.decision;
  const controller =
    view.controllerOnline === undefined
      ? t("controllerNone")
      : view.controllerOnline
        ? t("controllerOnline")
        : t("controllerOffline");
  return (
    <article
      className={`lane screen-${display}`}
      data-lane={view.lane}
      data-screen={display}
      aria-live="assertive"
      aria-label={t("lane", { lane: view.lane })}
    >
      <header className="lane-head">
        <span className="lane-name">
          {t("lane", { lane: view.lane })} · {view.direction === "entry" ? t("laneEntry") : t("laneExit")}
        </span>
        {/* Online is the normal case: a dot; anything else is spelled out. */}
        <span
          className={`lane-controller ${view.controllerOnline === false ? "bad" : view.controllerOnline ? "ok" : ""}`}
          // The reason is for a tech (diagnostics say it too); a steward reads the word.
          title={view.controllerDetail ? `${controller} — ${view.controllerDetail}` : controller}
        >
          {view.controllerOnline ? "" : controller}
        </span>
      </header>
      <div className="lane-main">
        <div
          className="lane-word"
          style={{ "--chars": wordChars(word[display], SYMBOL[display]) } as CSSProperties}
        >
          {SYMBOL[display] !== "" ? <span className="lane-symbol">{SYMBOL[display]}</span> : null}
          {word[display]}
        </div>
        <LaneDetail
          display={display}
          decision={decision}
          state={state}
          language={language}
          t={t}
          lane={view.lane}
          onConfirm={onConfirm}
          onDecline={onDecline}
          onPassage={onPassage}
        />
      </div>
    </article>
  );
}

/** The longest line the big word may take (it wraps at spaces), in characters, symbol included. */
function wordChars(word: string, symbol: string): number {
  const longest = Math.max(...word.split(" ").map((w) => w.length));
  return longest + (symbol === "" ? 0 : 1.3);
}

interface DetailProps {
  readonly display: DisplayScreen;
  readonly decision: Decision | undefined;
  readonly state: KioskState;
  readonly language: Language;
  readonly t: Translate;
  readonly lane: number;
  readonly onConfirm: (lane: number) => void;
  readonly onDecline: (lane: number) => void;
  readonly onPassage: (lane: number) => void;
}

function LaneDetail({
  display,
  decision,
  state,
  language,
  t,
  lane,
  onConfirm,
  onDecline,
  onPassage,
}: DetailProps) {
  const message = decision?.messages[language];
  switch (display) {
    case "ready":
      return <p className="lane-line">{t("readyLine")}</p>;
    case "checking":
      return null;
    case "admit":
      return (
        <>
          {message ? <p className="lane-headline">{message.headline}</p> : null}
          <Seat decision={decision} state={state} t={t} />
          <Categories decision={decision} t={t} />
          <p className="lane-line">{t("awaitingLine")}</p>
        </>
      );
    case "awaiting-passage":
      return (
        <>
          <Seat decision={decision} state={state} t={t} />
          <Categories decision={decision} t={t} />
          <p className="lane-line">{t("awaitingManualLine")}</p>
          <div className="lane-actions">
            <button type="button" className="big primary" onClick={() => onPassage(lane)}>
              {t("confirmPassage")}
            </button>
          </div>
        </>
      );
    case "refuse":
      return (
        <>
          {message ? <p className="lane-headline refusal-reason">{message.headline}</p> : null}
          {message ? (
            <p className="lane-tell">
              <span className="tell-label">{t("tellHolder")}</span> {message.tell}
            </p>
          ) : null}
        </>
      );
    case "assisted":
      return (
        <>
          {message ? <p className="lane-headline">{message.headline}</p> : null}
          {decision?.holder ? (
            <p className="lane-holder">
              <span className="tell-label">{t("holder")}</span> {decision.holder}
            </p>
          ) : null}
          <Seat decision={decision} state={state} t={t} />
          <Categories decision={decision} t={t} />
          {state.steward ? null : <p className="lane-line">{t("stewardNeeded")}</p>}
          <div className="lane-actions">
            <button type="button" className="big primary" onClick={() => onConfirm(lane)}>
              {t("idCheckedAdmit")}
            </button>
            <button type="button" className="big danger" onClick={() => onDecline(lane)}>
              {t("decline")}
            </button>
          </div>
        </>
      );
    case "out-of-order":
      return (
        <>
          <p className="lane-headline">{t("outOfOrderLine")}</p>
          <p className="lane-tell">{t("outOfOrderTell")}</p>
        </>
      );
    case "fire-alarm":
      return <p className="lane-headline">{t("fireAlarmLine")}</p>;
    case "free-passage":
      return <p className="lane-headline">{t("freePassageLine")}</p>;
    case "locked":
      return <p className="lane-headline">{t("lockedLine")}</p>;
  }
}

function Seat({ decision, state, t }: { decision: Decision | undefined; state: KioskState; t: Translate }) {
  if (!decision || decision.zone === undefined) return null;
  const zone = state.venue.zones.find((z) => z.id === decision.zone);
  return (
    <p className="lane-seat">
      {zone ? (
        <span className="seat-zone">
          {t("zone", { code: zone.code })} <span className="seat-zone-name">{zone.name}</span>
        </span>
      ) : null}
      <span className="seat-place">{decision.seat ? t("seat", { seat: decision.seat }) : t("standing")}</span>
    </p>
  );
}

function Categories({ decision, t }: { decision: Decision | undefined; t: Translate }) {
  const categories = decision?.categories ?? [];
  if (categories.length === 0) return null;
  return (
    <ul className="lane-categories">
      {categories.map((c) => (
        <li key={c} className={`category category-${c.toLowerCase()}`}>
          {t(`cat_${c}`)}
        </li>
      ))}
    </ul>
  );
}
