import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, api } from "./api.js";
import type { Translate } from "./i18n.js";

/*
 * Steward sign-in: an on-screen keypad for the touch screen, and the real keyboard in the PIN field
 * (a keyboard-wedge scan typed meanwhile is still caught as a scan, never as PIN digits).
 */

interface PinPadProps {
  readonly t: Translate;
  /** The gate's clock now, and until when sign-in is locked (from the state). */
  readonly now: number;
  readonly lockedUntil: number | undefined;
  readonly onSignedIn: () => void;
  readonly onCancel: () => void;
}

const MAX_PIN = 12;
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "erase", "0", "ok"] as const;

export function PinPad({ t, now, lockedUntil, onSignedIn, onCancel }: PinPadProps) {
  const [pin, setPin] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // The 429 answer may come before the state that carries the lock: keep the later of the two.
  const [localLock, setLocalLock] = useState<number>();
  const field = useRef<HTMLInputElement>(null);
  const until = Math.max(lockedUntil ?? 0, localLock ?? 0);
  const locked = until > now;

  useEffect(() => field.current?.focus(), []);

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy || locked || pin === "") return;
    setBusy(true);
    try {
      await api("POST", "/api/session", { pin });
      setPin("");
      setError(undefined);
      onSignedIn();
    } catch (e) {
      setPin("");
      if (e instanceof ApiError && (e.status === 401 || e.status === 429)) {
        const retry = e.body.retryAfterMs;
        if (typeof retry === "number") setLocalLock(now + retry);
        const left = e.body.attemptsLeft;
        if (e.status === 401 && typeof left === "number" && left > 0) setError(t("pinWrong", { left }));
        else if (e.status === 401 && typeof retry !== "number") setError(t("pinWrongNoCount"));
        else setError(undefined);
      } else {
        setError(t("pinError", { error: e instanceof Error ? e.message : String(e) }));
      }
    } finally {
      setBusy(false);
      field.current?.focus();
    }
  };

  const press = (key: (typeof KEYS)[number]) => {
    if (key === "ok") void submit();
    else if (key === "erase") setPin((p) => p.slice(0, -1));
    else setPin((p) => (p.length < MAX_PIN ? p + key : p));
    setError(undefined);
  };

  return (
    <div className="modal-backdrop">
      <form className="pinpad" onSubmit={submit} aria-label={t("pinTitle")}>
        <h2>{t("pinTitle")}</h2>
        <label htmlFor="steward-pin">{t("pinPrompt")}</label>
        <input
          id="steward-pin"
          ref={field}
          className="pin-field"
          type="password"
          inputMode="numeric"
          autoComplete="off"
          aria-label={t("pinField")}
          value={pin}
          disabled={locked}
          onChange={(e) => setPin(e.target.value.replace(/\D/g, "").slice(0, MAX_PIN))}
        />
        <div className="pin-message" role="alert">
          {locked ? (
            <span className="pin-locked">
              {t("pinLocked", { seconds: Math.max(1, Math.ceil((until - now) / 1000)) })}
            </span>
          ) : error ? (
            <span className="pin-error">{error}</span>
          ) : null}
        </div>
        <div className="pin-keys">
          {KEYS.map((key) => (
            <button
              key={key}
              type="button"
              tabIndex={-1}
              className={`pin-key pin-key-${key}`}
              disabled={locked || busy}
              // Keep the focus in the PIN field: the keyboard goes on working after a tap.
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => press(key)}
              aria-label={key === "ok" ? t("pinOk") : key === "erase" ? t("pinErase") : key}
            >
              {key === "ok" ? t("pinOk") : key === "erase" ? "⌫" : key}
            </button>
          ))}
        </div>
        <button type="button" className="secondary" onClick={onCancel}>
          {t("close")}
        </button>
      </form>
    </div>
  );
}
