import { useSyncExternalStore } from "react";

/**
 * Who is signed in. The token lives in sessionStorage only (never localStorage or a cookie): it
 * is gone when the tab closes. Its claims are read for display and for choosing which screens
 * and actions to offer; the API checks the token on every call.
 */
const TOKEN_KEY = "makrcave-console-token";
const MAKERSPACE_KEY = "makrcave-console-makerspace";

export type Role = "super_admin" | "makerspace_admin" | "member" | "device" | string;

export interface Claims {
  sub: string;
  role: Role;
  makerspace_id: string | null;
  exp: number | null;
  name: string | null;
}

export interface AuthState {
  token: string | null;
  claims: Claims | null;
  /** The API answered 401 to this token (it expired or was revoked): sign in again. */
  expired: boolean;
  /** A super_admin's chosen makerspace; everyone else's is its token's. */
  makerspaceId: string | null;
}

function decodePart(part: string): unknown {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

/** The claims of a JWT, or null when it is not one. Nothing is verified here: the API does that. */
export function readClaims(token: string, roleClaim = "role", makerspaceClaim = "makerspace_id"): Claims | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const p = decodePart(parts[1] ?? "") as Record<string, unknown>;
    if (typeof p.sub !== "string") return null;
    const role = p[roleClaim];
    const ms = p[makerspaceClaim];
    return {
      sub: p.sub,
      role: typeof role === "string" ? role : "member",
      makerspace_id: typeof ms === "string" ? ms : null,
      exp: typeof p.exp === "number" ? p.exp : null,
      name: typeof p.name === "string" ? p.name : null,
    };
  } catch {
    return null;
  }
}

function load(): AuthState {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const claims = token ? readClaims(token) : null;
  const chosen = sessionStorage.getItem(MAKERSPACE_KEY);
  return {
    token: claims ? token : null,
    claims,
    expired: false,
    makerspaceId: claims?.role === "super_admin" ? chosen : (claims?.makerspace_id ?? null),
  };
}

let state: AuthState = load();
const listeners = new Set<() => void>();
function set(next: AuthState) {
  state = next;
  for (const l of listeners) l();
}

export const auth = {
  get: () => state,
  subscribe(l: () => void) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  /** Signs in with a token; returns the reason when it cannot be one. */
  signIn(token: string): string | null {
    const trimmed = token.trim();
    const claims = readClaims(trimmed);
    if (!claims) return "That is not a token: paste the whole token (three parts separated by dots).";
    if (claims.exp !== null && claims.exp * 1000 <= Date.now()) return "That token has expired: ask for a new one.";
    if (claims.role === "device") return "That is a device token: sign in with a person's token.";
    sessionStorage.setItem(TOKEN_KEY, trimmed);
    const chosen = sessionStorage.getItem(MAKERSPACE_KEY);
    set({
      token: trimmed,
      claims,
      expired: false,
      makerspaceId: claims.role === "super_admin" ? chosen : claims.makerspace_id,
    });
    return null;
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(MAKERSPACE_KEY);
    set({ token: null, claims: null, expired: false, makerspaceId: null });
  },
  /** The API refused the token (401): keep the screen, ask for a new sign-in over it. */
  markExpired() {
    if (state.token && !state.expired) set({ ...state, expired: true });
  },
  chooseMakerspace(id: string | null) {
    if (id) sessionStorage.setItem(MAKERSPACE_KEY, id);
    else sessionStorage.removeItem(MAKERSPACE_KEY);
    set({ ...state, makerspaceId: id });
  },
};

/** `/admin#token=…`: taken into sessionStorage and out of the address bar before anything renders. */
export function takeTokenFromFragment(): string | null {
  const m = /^#token=([^&]+)/.exec(window.location.hash);
  if (!m?.[1]) return null;
  history.replaceState(history.state, "", window.location.pathname + window.location.search);
  return auth.signIn(decodeURIComponent(m[1]));
}

export function useAuth(): AuthState {
  return useSyncExternalStore(auth.subscribe, auth.get);
}
