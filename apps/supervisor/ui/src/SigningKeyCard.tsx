import { useMemo, useState } from "react";
import { useI18n } from "./i18n.js";
import { createSigningKey, importCertificate, keyRequest, type SigningKey } from "./signing-key.js";

/*
 * Enrolment of the supervisor's signing key: make it here, hand its public half to the root holder
 * (shown, and as a request file), import the certificate they send back.
 */
export function SigningKeyCard(props: {
  readonly venueId: string;
  readonly account: string;
  readonly signingKey: SigningKey | undefined;
  readonly onChange: (key: SigningKey) => void;
}) {
  const { t } = useI18n();
  const { signingKey: key } = props;
  const [certificate, setCertificate] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const request = useMemo(() => (key ? keyRequest(props.account, key) : ""), [key, props.account]);
  const requestUrl = useMemo(
    () => (request ? URL.createObjectURL(new Blob([request], { type: "application/json" })) : ""),
    [request],
  );

  const guarded = async (action: () => Promise<SigningKey>, done?: string) => {
    setError(undefined);
    setNotice(undefined);
    try {
      props.onChange(await action());
      if (done) setNotice(done);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      setError(
        err instanceof DOMException && err.name === "NotSupportedError"
          ? t("signingKeyUnsupported")
          : message,
      );
    }
  };

  const status = !key
    ? t("signingKeyNone")
    : key.certificate
      ? t("signingKeyCertified", {
          name: key.certificate.name,
          until: new Date(key.certificate.notAfter).toLocaleDateString(),
        })
      : t("signingKeyUncertified");

  return (
    <section className="card" data-testid="signing-key">
      <h2>{t("signingKeyTitle")}</h2>
      <p className="muted small">{t("signingKeyHelp")}</p>
      <p
        data-testid="signing-key-status"
        data-state={!key ? "none" : key.certificate ? "certified" : "uncertified"}
      >
        {status}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {notice ? (
        <p className="success" role="status">
          {notice}
        </p>
      ) : null}
      {key ? (
        <>
          <p>
            {t("signingKeyPublic")} <code data-testid="signing-public-key">{key.publicKey}</code>
          </p>
          {key.certificate ? null : (
            <>
              <p className="muted small">{t("signingKeyRequestHint")}</p>
              <a
                href={requestUrl}
                download={`supervisor-key-request-${props.account}.json`}
                data-testid="key-request"
              >
                {t("downloadKeyRequest")}
              </a>
              <label>
                {t("certificatePaste")}
                <textarea
                  name="certificate"
                  rows={4}
                  value={certificate}
                  onChange={(e) => setCertificate(e.target.value)}
                />
              </label>
              <div className="actions">
                <button
                  type="button"
                  disabled={certificate.trim() === ""}
                  onClick={() =>
                    guarded(
                      () => importCertificate(props.venueId, props.account, key, certificate),
                      t("certificateImported"),
                    )
                  }
                >
                  {t("importCertificate")}
                </button>
              </div>
            </>
          )}
        </>
      ) : null}
      <div className="actions">
        <button type="button" onClick={() => guarded(() => createSigningKey(props.venueId, props.account))}>
          {key ? t("replaceSigningKey") : t("createSigningKey")}
        </button>
      </div>
    </section>
  );
}
