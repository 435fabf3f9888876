/** The one localStorage key the idle reset keeps. */
export const TOKEN_KEY = "makrcave-kiosk-token";

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

interface Claims {
  role?: unknown;
  device_kind?: unknown;
  exp?: unknown;
}

function decodeClaims(jwt: string): Claims | null {
  try {
    const part = (jwt.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(atob(part));
    return typeof claims === "object" && claims !== null ? claims : null;
  } catch {
    return null;
  }
}

/**
 * Why a pasted value cannot be this kiosk's token, in words for the admin; undefined when it may
 * be one. Read from the unverified claims only to explain early: the server has the last word.
 */
export function tokenProblem(value: string, now: number): string | undefined {
  const claims = decodeClaims(value);
  if (!claims) return "That is not a token. Paste the whole token: three parts separated by dots.";
  if (claims.role !== "device" || claims.device_kind !== "kiosk") {
    return "This is not a kiosk device token. Register a device of kind 'kiosk' and paste its token.";
  }
  if (typeof claims.exp === "number" && claims.exp * 1000 <= now) {
    return "This token has expired. Rotate the device's token and paste the new one.";
  }
  return undefined;
}
