import { type ReactNode, useEffect, useRef } from "react";
import { useI18n } from "./i18n.js";

/**
 * Asks before anything that changes the venue: a command reaches real turnstiles. Modal, focus on
 * Cancel (Enter must not open a venue by accident), Escape cancels.
 */
export function Confirm(props: {
  readonly title: string;
  readonly children: ReactNode;
  readonly danger?: boolean;
  readonly busy?: boolean;
  readonly error?: string | undefined;
  readonly onConfirm: () => void;
  readonly onCancel: () => void;
}) {
  const { t } = useI18n();
  const cancel = useRef<HTMLButtonElement>(null);
  const { onCancel } = props;
  useEffect(() => {
    cancel.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onCancel();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onCancel]);
  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
        <h2 id="confirm-title">{props.title}</h2>
        <div className="dialog-body">{props.children}</div>
        {props.error ? (
          <p className="error" role="alert">
            {props.error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" ref={cancel} onClick={props.onCancel} disabled={props.busy}>
            {t("cancel")}
          </button>
          <button
            type="button"
            className={props.danger ? "danger" : "primary"}
            onClick={props.onConfirm}
            disabled={props.busy}
          >
            {t("confirm")}
          </button>
        </div>
      </div>
    </div>
  );
}
