import { useQuery } from "@tanstack/react-query";
import { Link, Outlet, useLocation } from "@tanstack/react-router";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { makrcaveClient } from "../../src/client";
import { auth, useAuth } from "./auth";
import { startSignIn } from "./oidc";
import { useViewer } from "./viewer";

/** /admin/config.json: whether sign-in goes through an OpenID Connect provider. */
export function useConsoleConfig() {
  return useQuery({
    queryKey: ["console-config"],
    staleTime: Number.POSITIVE_INFINITY,
    queryFn: async () => {
      const res = await makrcaveClient(window.location.origin).admin["config.json"].$get();
      if (!res.ok) throw new Error("The console's settings could not be read.");
      return res.json();
    },
  });
}

function SignIn({ expired }: { expired: boolean }) {
  const config = useConsoleConfig();
  const location = useLocation();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(() => {
    const problem = sessionStorage.getItem("makrcave-console-link-problem");
    sessionStorage.removeItem("makrcave-console-link-problem");
    return problem;
  });
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problem = auth.signIn(token);
    setError(problem);
  };
  const oidc = config.data?.oidc ?? null;
  const provider = async () => {
    if (!oidc) return;
    setBusy(true);
    setError(null);
    try {
      await startSignIn(oidc, location.href);
    } catch {
      setBusy(false);
      setError("The sign-in provider cannot be reached. Try again, or paste a token.");
    }
  };
  return (
    <div className={expired ? "overlay" : "signin-page"}>
      <section
        className="card signin"
        {...(expired ? { role: "dialog", "aria-modal": true } : {})}
        aria-labelledby={`${fieldId}-h`}
      >
        <h1 id={`${fieldId}-h`} ref={heading} tabIndex={-1}>
          {expired ? "Sign in again" : "Sign in to the MakrCave console"}
        </h1>
        {expired && (
          <p>Your sign-in has expired. Sign in again: you stay on this screen, and what you typed is kept.</p>
        )}
        {oidc && (
          <p>
            <button type="button" className="primary" onClick={provider} disabled={busy}>
              Sign in with {new URL(oidc.issuer).host}
            </button>
          </p>
        )}
        <form onSubmit={submit}>
          <label htmlFor={fieldId}>{oidc ? "Or paste a token" : "Token"}</label>
          <textarea
            id={fieldId}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            rows={4}
            spellCheck={false}
            autoComplete="off"
            aria-describedby={error ? `${fieldId}-err` : `${fieldId}-help`}
          />
          <p id={`${fieldId}-help`} className="help">
            Your token is kept in this tab only and forgotten when you close it or sign out.
          </p>
          {error && (
            <p id={`${fieldId}-err`} className="error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className={oidc ? "" : "primary"}>
            Sign in
          </button>
          {expired && (
            <button type="button" onClick={() => auth.signOut()}>
              Sign out
            </button>
          )}
        </form>
      </section>
    </div>
  );
}

function PickMakerspace() {
  const [value, setValue] = useState("");
  const id = useId();
  return (
    <main id="main" className="signin-page">
      <section className="card signin" aria-labelledby={`${id}-h`}>
        <h1 id={`${id}-h`}>Choose a makerspace</h1>
        <p>As a super admin you act in whichever makerspace you choose.</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (value.trim()) auth.chooseMakerspace(value.trim());
          }}
        >
          <label htmlFor={id}>Makerspace id</label>
          <input id={id} value={value} onChange={(e) => setValue(e.target.value)} required autoComplete="off" />
          <button type="submit" className="primary">
            Open makerspace
          </button>
        </form>
      </section>
    </main>
  );
}

function Nav() {
  const viewer = useViewer();
  const { claims, makerspaceId } = useAuth();
  const links =
    viewer.kind === "admin"
      ? [
          { to: "/", label: "Overview" },
          { to: "/members", label: "Members" },
          { to: "/requests", label: "Requests" },
          { to: "/matrix", label: "Training matrix" },
        ]
      : viewer.kind === "instructor"
        ? [
            { to: "/", label: "My certifications" },
            { to: "/requests", label: "Requests" },
            { to: "/matrix", label: "Training matrix" },
          ]
        : [{ to: "/", label: "My certifications" }];
  return (
    <header className="top">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <div className="brand">
        MakrCave <span className="muted">{makerspaceId ?? ""}</span>
      </div>
      <nav aria-label="Console">
        <ul>
          {links.map((l) => (
            <li key={l.to}>
              <Link
                to={l.to}
                activeOptions={{ exact: l.to === "/", includeSearch: false }}
                activeProps={{ "aria-current": "page" }}
              >
                {l.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="who">
        <span>
          {claims?.name ?? claims?.sub}{" "}
          <span className="muted">({viewer.kind === "admin" ? claims?.role : viewer.kind})</span>
        </span>
        {claims?.role === "super_admin" && (
          <button type="button" onClick={() => auth.chooseMakerspace(null)}>
            Change makerspace
          </button>
        )}
        <button type="button" onClick={() => auth.signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}

/** Every screen's frame: sign-in when nobody is, the makerspace choice for a super_admin, then the app. */
export function Shell() {
  const { token, expired, claims, makerspaceId } = useAuth();
  const location = useLocation();
  if (location.pathname.endsWith("/callback")) return <Outlet />;
  if (!token) return <SignIn expired={false} />;
  if (claims?.role === "super_admin" && !makerspaceId) return <PickMakerspace />;
  return (
    <>
      <div inert={expired ? true : undefined} aria-hidden={expired ? true : undefined}>
        <Nav />
        <main id="main" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
      {expired && <SignIn expired />}
    </>
  );
}
