import { errorType, KioskError } from "./api";

export type Mode = "badge" | "member";

/** What went wrong, in words for whoever stands at the kiosk. */
export function explain(err: unknown, mode: Mode): string {
  if (!(err instanceof KioskError)) return "Something went wrong on this screen. Please try again.";
  if (err.kind === "network") {
    return "We can't reach the server right now. Please try again in a moment, or tell a staff member.";
  }
  if (err.kind === "token") {
    return "This kiosk's access token is no longer accepted (it expired or was revoked). An admin needs to enter a new one.";
  }
  const type = errorType(err);
  if (type === "badge_not_found") return "We don't recognise this badge. Ask a staff member to register it.";
  if (type === "validation_error") {
    return mode === "badge"
      ? "That badge could not be read. Please hold it to the reader again."
      : "That doesn't look like a member id. Please check it and try again.";
  }
  if (err.status === 403) return "This kiosk isn't allowed to do that. An admin should check the kiosk's token.";
  if (err.status >= 500) return "The server had a problem. Please try again in a moment.";
  return `That didn't work (error ${err.status}). Please try again.`;
}
