import { type FormEvent, useState } from "react";
import { call, HttpError } from "./api.js";
import { useI18n } from "./i18n.js";
import type { Me } from "./types.js";

/**
 * The only thing an anonymous visitor sees: a user name and password or, for the demo venue and
 * scripts, a dashboard access token. Either way the server answers with a session cookie.
 */
export function SignIn(props: {
  readonly onSignedIn: (me: Me) => void;
  readonly notice?: string | undefined;
}) {
  const { t } = useI18n();
  const [withToken, setWithToken] = useState(false);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const me = await call<Me>(
        "POST",
        "session",
        withToken ? { token: secret } : { name, password: secret },
      );
      setSecret("");
      props.onSignedIn(me);
    } catch (err) {
      setSecret("");
      if (err instanceof HttpError && err.status === 429)
        setError(t("tooManyAttempts", { seconds: err.retryAfterSeconds ?? 60 }));
      else if (err instanceof HttpError && (err.status === 401 || err.status === 400))
        setError(t(withToken ? "wrongToken" : "wrongPassword"));
      else setError(t("networkError"));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t("signInTitle")}</h1>
        <p className="muted">{t("signInHint")}</p>
        {props.notice ? <p className="notice">{props.notice}</p> : null}
        {withToken ? (
          <label>
            {t("token")}
            <input
              name="token"
              type="password"
              autoComplete="off"
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              required
              maxLength={256}
            />
          </label>
        ) : (
          <>
            <label>
              {t("name")}
              <input
                name="username"
                autoComplete="username"
                value={name}
                onChange={(e) => setName(e.target.value)}
                required
                maxLength={64}
              />
            </label>
            <label>
              {t("password")}
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                value={secret}
                onChange={(e) => setSecret(e.target.value)}
                required
                maxLength={1024}
              />
            </label>
          </>
        )}
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t("signingIn") : t("signIn")}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setWithToken(!withToken);
            setSecret("");
            setError(undefined);
          }}
        >
          {withToken ? t("usePassword") : t("useToken")}
        </button>
      </form>
    </main>
  );
}
