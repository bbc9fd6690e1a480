import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api } from "./api.js";
import type { Translate } from "./i18n.js";
import type { KioskLookupResult, KioskState, Language, ManualAdmissionResult } from "./types.js";

/*
 * Printed-confirmation fallback: find the order by reference or holder's name (accents do not
 * matter), check an ID, tick the tickets of the people standing there and admit them at a lane.
 * Each ticket gets its own answer: one already inside does not stop the others. A ticket a steward
 * may not admit alone (a phone ticket, another entrance's…) says so, and the admission then needs a
 * supervisor's id, code and reason (docs/kiosk-ui.md).
 */

type LookupResult = KioskLookupResult;
type LookupHit = KioskLookupResult["hits"][number];

/** What the supervisor typed; the code is cleared after every attempt. */
interface OverrideForm {
  readonly supervisor: string;
  readonly code: string;
  readonly note: string;
}
const EMPTY_OVERRIDE: OverrideForm = { supervisor: "", code: "", note: "" };

interface LookupProps {
  readonly t: Translate;
  readonly language: Language;
  readonly state: KioskState;
  readonly defaultLane: number;
  /** Runs a steward action; asks for the PIN first when nobody is signed in. */
  readonly withSteward: (action: () => Promise<void>) => void;
  readonly timeOf: (ms: number) => string;
}

const keyOf = (hit: Pick<LookupHit, "ticketId" | "session">) => `${hit.ticketId}:${hit.session}`;
const SEARCH_DELAY_MS = 350;

export function Lookup({ t, language, state, defaultLane, withSteward, timeOf }: LookupProps) {
  const [query, setQuery] = useState("");
  const [result, setResult] = useState<LookupResult>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [idChecked, setIdChecked] = useState(false);
  const [lane, setLane] = useState(defaultLane);
  const [outcomes, setOutcomes] = useState<readonly ManualAdmissionResult[]>([]);
  const [error, setError] = useState<string>();
  const [override, setOverride] = useState<OverrideForm>(EMPTY_OVERRIDE);
  const [overrideError, setOverrideError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  const searched = useRef("");

  useEffect(() => field.current?.focus(), []);

  const search = (text: string) => {
    const q = text.trim();
    if (q.length < 2) return;
    searched.current = q;
    withSteward(async () => {
      try {
        const found = await api<LookupResult>("GET", `/api/lookup?q=${encodeURIComponent(q)}`);
        // Answers can cross: only the last search typed counts.
        if (searched.current !== q) return;
        setResult(found);
        setError(undefined);
        setSelected((s) => new Set([...s].filter((k) => found.hits.some((h) => keyOf(h) === k))));
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        setError(t("error", { error: e instanceof Error ? e.message : String(e) }));
      }
    });
  };

  // Search as the steward types, after a short pause (a new state from the gate does not restart it).
  const searchLater = useRef(search);
  searchLater.current = search;
  useEffect(() => {
    const q = query.trim();
    if (q.length < 2 || q === searched.current) return;
    const timer = setTimeout(() => searchLater.current(q), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);

  // A passage, an annulment or a scan elsewhere changes what the list must say: search again.
  const lanesKey = state.lanes.map((l) => `${l.lane}:${l.screen}:${l.since}`).join("|");
  const lastLanesKey = useRef(lanesKey);
  useEffect(() => {
    if (lastLanesKey.current === lanesKey) return;
    lastLanesKey.current = lanesKey;
    const q = searched.current;
    if (q !== "" && state.steward) {
      searched.current = "";
      search(q);
    }
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    searched.current = "";
    search(query);
  };

  const toggle = (hit: LookupHit) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(keyOf(hit))) next.delete(keyOf(hit));
      else next.add(keyOf(hit));
      return next;
    });

  const chosen = (result?.hits ?? []).filter((h) => selected.has(keyOf(h)));
  const needSupervisor = chosen.filter((h) => h.manual.by === "supervisor");

  /** The kiosk's words for a refused override (the backend says which problem it was). */
  const overrideProblem = (e: ApiError): string => {
    const left = typeof e.body.attemptsLeft === "number" ? e.body.attemptsLeft : 0;
    const retry = typeof e.body.retryAfterMs === "number" ? e.body.retryAfterMs : 0;
    switch (e.body.problem) {
      case "no-supervisor":
        return t("overrideNoSupervisor");
      case "unknown-supervisor":
        return e.status === 429
          ? t("overrideLocked", { minutes: Math.ceil(retry / 60_000) })
          : t("overrideUnknownSupervisor", { left });
      case "bad-code":
        return t("overrideBadCode");
      case "wrong-code":
        return e.status === 429
          ? t("overrideLocked", { minutes: Math.ceil(retry / 60_000) })
          : t("overrideWrongCode", { left });
      case "empty-note":
        return t("overrideEmptyNote");
      case "locked":
        return t("overrideLocked", { minutes: Math.ceil(retry / 60_000) });
      default:
        return t("error", { error: e.message });
    }
  };

  const admit = () => {
    const tickets = chosen.map((h) => ({ ticketId: h.ticketId, session: h.session }));
    if (tickets.length === 0 || !idChecked) return;
    const withOverride = needSupervisor.length > 0;
    withSteward(async () => {
      setBusy(true);
      try {
        const answer = await api<{ results: ManualAdmissionResult[] }>(
          "POST",
          `/api/lanes/${lane}/manual-admission`,
          { idChecked: true, tickets, ...(withOverride ? { override } : {}) },
        );
        setOutcomes(answer.results);
        setSelected(new Set());
        setIdChecked(false);
        setOverride(EMPTY_OVERRIDE);
        setOverrideError(undefined);
        setError(undefined);
        searched.current = "";
        search(query);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) throw e;
        if (withOverride && e instanceof ApiError && typeof e.body.problem === "string") {
          setOverrideError(overrideProblem(e));
          setOverride((o) => ({ ...o, code: "" }));
        } else setError(t("error", { error: e instanceof Error ? e.message : String(e) }));
      } finally {
        setBusy(false);
      }
    });
  };

  const orders = new Map<string, LookupHit[]>();
  for (const hit of result?.hits ?? []) {
    const list = orders.get(hit.orderReference) ?? [];
    list.push(hit);
    orders.set(hit.orderReference, list);
  }
  const sessionCode = (id: number) => state.sessions.find((s) => s.id === id)?.code ?? String(id);
  const here = state.gate.entrance.id;
  const hitOf = (r: ManualAdmissionResult) =>
    result?.hits.find((h) => h.ticketId === r.ticketId && h.session === r.session);

  return (
    <section className="lookup" aria-label={t("lookupTitle")}>
      <h2>{t("lookupTitle")}</h2>
      <form className="lookup-search" onSubmit={submit}>
        <label htmlFor="lookup-query">{t("lookupField")}</label>
        <div className="lookup-row">
          <input
            id="lookup-query"
            ref={field}
            type="search"
            autoComplete="off"
            spellCheck={false}
            maxLength={100}
            placeholder={t("lookupPlaceholder")}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button type="submit" className="primary">
            {t("lookupSearch")}
          </button>
        </div>
        <p className="hint">{t("lookupHint")}</p>
      </form>

      {error ? (
        <p className="lookup-error" role="alert">
          {error}
        </p>
      ) : null}

      {outcomes.length > 0 ? (
        <ul className="lookup-outcomes" aria-live="polite">
          {outcomes.map((o) => {
            const hit = hitOf(o);
            const who = hit ? `${hit.holder} · ${hit.seat || t("standing")}` : `#${o.ticketId}`;
            return (
              <li
                key={keyOf(o)}
                className={o.admitted ? "outcome ok" : "outcome refused"}
                data-ticket={o.ticketId}
              >
                <span className="outcome-mark">{o.admitted ? "✓" : "✗"}</span>
                <span className="outcome-who">{who}</span>
                <span className="outcome-what">
                  {o.admitted
                    ? t("lookupAdmitted", { lane: o.lane })
                    : o.messages
                      ? `${o.messages[language].headline} — ${o.needsSupervisor ? t("lookupNeedsSupervisor") : o.messages[language].tell}`
                      : `${t("lookupRefused")} — ${o.error}`}
                </span>
              </li>
            );
          })}
        </ul>
      ) : null}

      {result ? (
        <div className="lookup-results">
          {result.hits.length === 0 ? <p className="hint">{t("lookupNone")}</p> : null}
          {[...orders].map(([order, hits]) => (
            <div className="lookup-order" key={order}>
              <h3>{t("lookupOrder", { order })}</h3>
              <ul>
                {hits.map((hit) => {
                  // Inside, or passing at a lane: nobody admits it by hand.
                  const blocked = hit.manual.by === "nobody";
                  const presence = hit.presence;
                  return (
                    <li
                      key={keyOf(hit)}
                      className={blocked ? "ticket blocked" : "ticket"}
                      data-ticket={hit.ticketId}
                    >
                      <label>
                        <input
                          type="checkbox"
                          disabled={blocked}
                          checked={selected.has(keyOf(hit))}
                          onChange={() => toggle(hit)}
                          aria-label={t("lookupSelect", { holder: hit.holder })}
                        />
                        <span className="ticket-holder">{hit.holder}</span>
                        <span className="ticket-facts">
                          {t("lookupSession", { code: sessionCode(hit.session) })} ·{" "}
                          {t("zone", { code: hit.zone.code })} ·{" "}
                          {hit.seat ? t("seat", { seat: hit.seat }) : t("standing")}
                        </span>
                        {hit.status !== "valid" ? (
                          <span className="ticket-status bad">{t("lookupCancelled")}</span>
                        ) : hit.entered && presence ? (
                          <span className="ticket-status bad">
                            {t("lookupEntered", {
                              time: timeOf(presence.firstEntryAt),
                              gate: presence.firstEntryGate,
                            })}
                          </span>
                        ) : null}
                        {hit.manual.by === "supervisor" && hit.manual.messages ? (
                          <span className="ticket-status supervisor">
                            {t("lookupSupervisor", { why: hit.manual.messages[language].headline })}
                          </span>
                        ) : hit.entrance.id !== here ? (
                          <span className="ticket-status warn">
                            {t("lookupOtherEntrance", { code: hit.entrance.code })}
                          </span>
                        ) : null}
                      </label>
                    </li>
                  );
                })}
              </ul>
            </div>
          ))}
          {result.more ? <p className="hint">{t("lookupMore")}</p> : null}
          {result.otherSessions > 0 ? (
            <p className="hint">{t("lookupOtherSessions", { count: result.otherSessions })}</p>
          ) : null}
        </div>
      ) : null}

      {needSupervisor.length > 0 ? (
        <fieldset className="override" aria-label={t("overrideTitle")}>
          <legend>{t("overrideTitle")}</legend>
          <p className="override-why">{t("overrideWhy", { code: state.gate.entrance.code })}</p>
          <ul className="override-tickets">
            {needSupervisor.map((h) => (
              <li key={keyOf(h)} data-ticket={h.ticketId}>
                {h.holder} — {h.manual.messages?.[language].headline}
              </li>
            ))}
          </ul>
          <label>
            {t("overrideSupervisor")}
            <input
              id="override-supervisor"
              autoComplete="off"
              spellCheck={false}
              maxLength={32}
              value={override.supervisor}
              onChange={(e) => setOverride((o) => ({ ...o, supervisor: e.target.value }))}
            />
          </label>
          <label>
            {t("overrideCode")}
            <input
              id="override-code"
              type="password"
              inputMode="numeric"
              autoComplete="off"
              maxLength={12}
              value={override.code}
              onChange={(e) => setOverride((o) => ({ ...o, code: e.target.value }))}
            />
          </label>
          <label>
            {t("overrideNote")}
            <textarea
              id="override-note"
              maxLength={200}
              rows={2}
              value={override.note}
              onChange={(e) => setOverride((o) => ({ ...o, note: e.target.value }))}
            />
          </label>
          {overrideError ? (
            <p className="override-error" role="alert">
              {overrideError}
            </p>
          ) : null}
        </fieldset>
      ) : null}

      <div className="lookup-admit">
        <label className="id-checked">
          <input type="checkbox" checked={idChecked} onChange={(e) => setIdChecked(e.target.checked)} />
          {t("lookupIdChecked")}
        </label>
        {state.lanes.length > 1 ? (
          <label className="lookup-lane">
            {t("lookupAdmitAt")}
            <select value={lane} onChange={(e) => setLane(Number(e.target.value))}>
              {state.lanes.map((l) => (
                <option key={l.lane} value={l.lane}>
                  {l.lane}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <button
          type="button"
          className="big primary"
          disabled={busy || !idChecked || selected.size === 0}
          onClick={admit}
        >
          {needSupervisor.length > 0
            ? t("overrideAdmit", { count: selected.size })
            : t("lookupAdmit", { count: selected.size })}
        </button>
      </div>
    </section>
  );
}
