import { type ReactNode, useEffect, useState } from "react";
import { call } from "./api.js";
import { Confirm } from "./Confirm.js";
import { useI18n } from "./i18n.js";
import { SigningKeyCard } from "./SigningKeyCard.js";
import { loadSigningKey, type SigningKey, signedCommands } from "./signing-key.js";
import type { CommandType, CommandView, GateView, Me, VenueInfo } from "./types.js";

/*
 * Supervisor commands (emergency free passage, lanes, messages). Every command is confirmed in a
 * dialog that names the gates it reaches, then followed gate by gate as the acknowledgements come
 * back. A tech sees all of it, disabled, with the reason.
 */

interface Pending {
  readonly body: Record<string, unknown>;
  readonly type: CommandType;
  readonly question: string;
  readonly gates: readonly string[];
  readonly danger: boolean;
  readonly extra?: ReactNode;
}

/** "venue", or an entrance id as text. */
type AreaTarget = string;

export function Commands(props: {
  readonly me: Me;
  readonly venue: VenueInfo;
  readonly gates: Readonly<Record<string, GateView>>;
  readonly commands: readonly CommandView[];
  readonly now: number;
  readonly onSent: (views: readonly CommandView[]) => void;
}) {
  const { t } = useI18n();
  const { venue } = props;
  const allowed = props.me.role === "supervisor";
  const firstEntrance = String(venue.entrances[0]?.id ?? "");
  const firstGate = venue.gates[0]?.id ?? "";
  const [passageTarget, setPassageTarget] = useState<AreaTarget>(firstEntrance);
  const [laneGate, setLaneGate] = useState(firstGate);
  const [lane, setLane] = useState("all");
  const [messageTarget, setMessageTarget] = useState(`gate:${firstGate}`);
  const [text, setText] = useState("");
  const [pending, setPending] = useState<Pending | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const [signingKey, setSigningKey] = useState<SigningKey | undefined>();
  const certified = signingKey?.certificate !== undefined;

  useEffect(() => {
    if (!allowed) return;
    loadSigningKey(venue.id, props.me.name).then(setSigningKey, () => setSigningKey(undefined));
  }, [allowed, venue.id, props.me.name]);

  const provisioned = (gateIds: readonly string[]) => gateIds.filter((id) => props.gates[id]?.provisioned);
  const gatesOfEntrance = (id: number) => venue.gates.filter((g) => g.entrance === id).map((g) => g.id);
  const entranceName = (id: number) => venue.entrances.find((e) => e.id === id)?.name ?? String(id);

  const area = (target: AreaTarget) =>
    target === "venue"
      ? { body: { venue: true }, label: t("targetVenue"), gates: provisioned(venue.gates.map((g) => g.id)) }
      : {
          body: { entrance: Number(target) },
          label: t("targetEntrance", { name: entranceName(Number(target)) }),
          gates: provisioned(gatesOfEntrance(Number(target))),
        };

  const ask = (p: Pending) => {
    setError(undefined);
    setNotice(undefined);
    setPending(p);
  };

  const send = async () => {
    if (!pending) return;
    setBusy(true);
    setError(undefined);
    try {
      // Free passage opens lanes: this browser's certified key signs one command per entrance.
      const body =
        pending.type === "free-passage" && signingKey
          ? await signedCommands(
              signingKey,
              props.me.name,
              pending.type,
              pending.body.venue === true
                ? venue.entrances.map((e) => ({ entrance: e.id }))
                : [{ entrance: Number(pending.body.entrance) }],
            )
          : { type: pending.type, ...pending.body };
      const r = await call<{ commands: CommandView[] }>("POST", "commands", body);
      props.onSent(r.commands);
      setPending(undefined);
      setNotice(t("sent"));
      if (pending.type === "message") setText("");
    } catch (err) {
      setError(t("errorPrefix", { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };

  const freePassage = (type: "free-passage" | "end-free-passage") => {
    const a = area(passageTarget);
    ask({
      type,
      body: a.body,
      gates: a.gates,
      danger: type === "free-passage",
      question: t(type === "free-passage" ? "confirmFreePassage" : "confirmEndFreePassage", {
        target: a.label,
      }),
    });
  };

  const laneCommand = (type: "lock-lane" | "unlock-lane") => {
    const laneLabel = lane === "all" ? t("allTheLanes") : t("theLane", { lane });
    ask({
      type,
      body: { gate: laneGate, ...(lane === "all" ? {} : { lane: Number(lane) }) },
      gates: provisioned([laneGate]),
      danger: false,
      question: t(type === "lock-lane" ? "confirmLock" : "confirmUnlock", {
        lane: laneLabel,
        gate: laneGate,
      }),
    });
  };

  const message = () => {
    const [kind, id] = messageTarget.split(":");
    const toGate = kind === "gate";
    const label = toGate
      ? t("targetGate", { gate: id ?? "" })
      : t("targetEntrance", { name: entranceName(Number(id)) });
    ask({
      type: "message",
      body: toGate ? { gate: id, text: text.trim() } : { entrance: Number(id), text: text.trim() },
      gates: toGate ? provisioned([id ?? ""]) : provisioned(gatesOfEntrance(Number(id))),
      danger: false,
      question: t("confirmMessage", { target: label }),
      extra: <blockquote className="message-preview">{text.trim()}</blockquote>,
    });
  };

  const lanesOf = venue.gates.find((g) => g.id === laneGate)?.lanes ?? 0;
  const laneNumbers = Array.from({ length: lanesOf }, (_, i) => i + 1);

  return (
    <div className="commands">
      {allowed ? null : (
        <p className="notice" role="note" data-testid="commands-disabled">
          {t("commandsSupervisorOnly")}
        </p>
      )}
      {notice ? (
        <p className="success" role="status">
          {notice}
        </p>
      ) : null}
      {allowed ? (
        <SigningKeyCard
          venueId={venue.id}
          account={props.me.name}
          signingKey={signingKey}
          onChange={setSigningKey}
        />
      ) : null}
      <fieldset className="card" disabled={!allowed}>
        <legend>{t("freePassageTitle")}</legend>
        <p className="muted small">{t("freePassageHelp")}</p>
        {allowed && !certified ? (
          <p className="notice" role="note" data-testid="free-passage-needs-key">
            {t("freePassageNeedsKey")}
          </p>
        ) : null}
        <label>
          {t("target")}
          <select
            value={passageTarget}
            onChange={(e) => setPassageTarget(e.target.value)}
            name="passage-target"
          >
            {venue.entrances.map((e) => (
              <option key={e.id} value={String(e.id)}>
                {e.name}
              </option>
            ))}
            <option value="venue">{t("wholeVenue")}</option>
          </select>
        </label>
        <div className="actions">
          <button
            type="button"
            className="danger"
            disabled={!certified}
            onClick={() => freePassage("free-passage")}
          >
            {t("startFreePassage")}
          </button>
          <button type="button" onClick={() => freePassage("end-free-passage")}>
            {t("endFreePassage")}
          </button>
        </div>
      </fieldset>

      <fieldset className="card" disabled={!allowed}>
        <legend>{t("laneTitle")}</legend>
        <label>
          {t("gate")}
          <select
            value={laneGate}
            onChange={(e) => {
              setLaneGate(e.target.value);
              setLane("all");
            }}
            name="lane-gate"
          >
            {venue.gates.map((g) => (
              <option key={g.id} value={g.id}>
                {g.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("lane")}
          <select value={lane} onChange={(e) => setLane(e.target.value)} name="lane">
            <option value="all">{t("allLanes")}</option>
            {laneNumbers.map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <div className="actions">
          <button type="button" onClick={() => laneCommand("lock-lane")}>
            {t("lockLane")}
          </button>
          <button type="button" onClick={() => laneCommand("unlock-lane")}>
            {t("unlockLane")}
          </button>
        </div>
      </fieldset>

      <fieldset className="card" disabled={!allowed}>
        <legend>{t("messageTitle")}</legend>
        <label>
          {t("target")}
          <select
            value={messageTarget}
            onChange={(e) => setMessageTarget(e.target.value)}
            name="message-target"
          >
            {venue.gates.map((g) => (
              <option key={g.id} value={`gate:${g.id}`}>
                {t("gateLabel", { gate: g.id })}
              </option>
            ))}
            {venue.entrances.map((e) => (
              <option key={e.id} value={`entrance:${e.id}`}>
                {e.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("messageText")}
          <textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            maxLength={500}
            rows={2}
            name="message"
          />
        </label>
        <div className="actions">
          <button type="button" onClick={message} disabled={text.trim() === ""}>
            {t("sendMessage")}
          </button>
        </div>
      </fieldset>

      <RecentCommands commands={props.commands} now={props.now} venue={venue} />

      {pending ? (
        <Confirm
          title={`${t("confirmTitle")} — ${t(`cmd_${pending.type}`)}`}
          danger={pending.danger}
          busy={busy}
          error={error}
          onCancel={() => setPending(undefined)}
          onConfirm={send}
        >
          <p>{pending.question}</p>
          {pending.extra}
          <p className="muted">
            {pending.gates.length > 0
              ? t("gatesConcerned", { gates: pending.gates.join(", ") })
              : t("noGateConcerned")}
          </p>
        </Confirm>
      ) : null}
    </div>
  );
}

function RecentCommands(props: {
  readonly commands: readonly CommandView[];
  readonly now: number;
  readonly venue: VenueInfo;
}) {
  const { t, time } = useI18n();
  const target = (c: CommandView["command"]) => {
    const to = c.target;
    return "gate" in to
      ? t("gateLabel", { gate: to.gate })
      : (props.venue.entrances.find((e) => e.id === to.entrance)?.name ?? String(to.entrance));
  };
  return (
    <section className="card wide">
      <h2>{t("recentCommands")}</h2>
      {props.commands.length === 0 ? <p className="muted">{t("noCommands")}</p> : null}
      <ul className="command-list" data-testid="recent-commands">
        {props.commands.map(({ command, acks, targets }) => (
          <li key={command.id} data-testid={`command-${command.id}`} data-type={command.type}>
            <div>
              <strong>{t(`cmd_${command.type}`)}</strong> — {target(command)}
              {command.lane !== undefined ? ` · ${t("theLane", { lane: command.lane })}` : ""}
              <span className="muted small">
                {" "}
                {t("sentBy", { by: command.by, time: time(command.issuedAt) })}
              </span>
            </div>
            {command.text ? <blockquote className="message-preview">{command.text}</blockquote> : null}
            <div className="acks">
              {targets.map((gateId) => {
                const ack = acks.find((a) => a.gateId === gateId);
                const state = ack ? ack.status : props.now > command.expiresAt ? "noAnswer" : "pending";
                return (
                  <span
                    key={gateId}
                    className={`ack ack-${state}`}
                    data-testid={`ack-${command.id}-${gateId}`}
                    data-state={state}
                    title={ack?.detail ?? undefined}
                  >
                    {t("ackLabel", { gate: gateId, state: t(`ack_${state}`) })}
                  </span>
                );
              })}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
