import * as oauth from "oauth4webapi";
import { auth } from "./auth";

/** The provider's settings, as /admin/config.json publishes them. */
export interface OidcSettings {
  issuer: string;
  client_id: string;
  scopes: string;
}

const PENDING_KEY = "makrcave-console-oidc";

const redirectUri = () => `${window.location.origin}/admin/callback`;
/** Plain http is allowed only for a provider on this machine (development, the browser tests). */
const insecure = (issuer: URL) =>
  issuer.protocol === "http:" && (issuer.hostname === "127.0.0.1" || issuer.hostname === "localhost");

async function discover(settings: OidcSettings): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(settings.issuer);
  const res = await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: insecure(issuer) });
  return oauth.processDiscoveryResponse(issuer, res);
}

/** Authorization code + PKCE: off to the provider, coming back to /admin/callback, then to `returnTo`. */
export async function startSignIn(settings: OidcSettings, returnTo: string): Promise<void> {
  const as = await discover(settings);
  if (!as.authorization_endpoint) throw new Error("The provider has no authorization endpoint");
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, nonce, returnTo }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", settings.client_id);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", settings.scopes);
  url.searchParams.set("state", state);
  url.searchParams.set("nonce", nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  window.location.assign(url.href);
}

/**
 * At /admin/callback: trades the code (with the PKCE verifier) for tokens. The API token is the
 * access token when it is a JWT, else the ID token (both carry the role and makerspace claims
 * the API reads through JWT_JWKS_URL). Returns where to go next.
 */
export async function finishSignIn(settings: OidcSettings): Promise<string> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null") as {
    verifier: string;
    state: string;
    nonce: string;
    returnTo: string;
  } | null;
  if (!pending) throw new Error("This sign-in was not started here. Start again.");
  sessionStorage.removeItem(PENDING_KEY);
  const as = await discover(settings);
  const client: oauth.Client = { client_id: settings.client_id };
  const params = oauth.validateAuthResponse(as, client, new URL(window.location.href), pending.state);
  const issuer = new URL(settings.issuer);
  const res = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    { [oauth.allowInsecureRequests]: insecure(issuer) },
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: pending.nonce });
  const token = tokens.access_token.split(".").length === 3 ? tokens.access_token : tokens.id_token;
  if (!token) throw new Error("The provider returned no token the service can read.");
  const problem = auth.signIn(token);
  if (problem) throw new Error(problem);
  return pending.returnTo;
}
