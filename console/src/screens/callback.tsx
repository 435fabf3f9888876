import { useNavigate } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { finishSignIn } from "../oidc";
import { useConsoleConfig } from "../shell";

/** /admin/callback: the provider sends the person back here with a code; then to where they were. */
export function Callback() {
  const config = useConsoleConfig();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  const navigate = useNavigate();
  useEffect(() => {
    const oidc = config.data?.oidc;
    if (!oidc || started.current) return;
    started.current = true;
    finishSignIn(oidc)
      .then((returnTo) => {
        const url = new URL(returnTo, window.location.origin);
        const path = url.pathname.replace(/^\/admin/, "") || "/";
        navigate({ href: `${path}${url.search}`, replace: true });
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : "The sign-in did not complete."));
  }, [config.data, navigate]);
  return (
    <main id="main" className="signin-page">
      <section className="card signin">
        <h1>Signing in…</h1>
        {error ? (
          <>
            <p className="error" role="alert">
              {error}
            </p>
            <a href="/admin/">Back to the sign-in</a>
          </>
        ) : (
          <p role="status">Finishing the sign-in with your provider.</p>
        )}
      </section>
    </main>
  );
}
