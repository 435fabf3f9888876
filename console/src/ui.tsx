import { useEffect, useRef } from "react";
import { errorText } from "./api";

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Failure({ error }: { error: unknown }) {
  return (
    <p className="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** The screen's heading, focused when the screen opens (screen readers hear where they are). */
export function ScreenTitle({ children }: { children: React.ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  useEffect(() => {
    if (typeof children === "string") document.title = `${children} · MakrCave console`;
  }, [children]);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  return iso.slice(0, 10);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

const STATUS_WORDS: Record<string, string> = {
  certified: "Certified",
  expiring: "Expiring soon",
  expired: "Expired",
  revoked: "Revoked",
  requested: "Requested",
  pending: "Pending",
  approved: "Approved",
  rejected: "Rejected",
  none: "None",
  active: "Active",
  suspended: "Suspended",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge s-${status}`}>{STATUS_WORDS[status] ?? status}</span>;
}

export const statusWord = (s: string) => STATUS_WORDS[s] ?? s;

/** Days from now to `iso` (negative: past). */
export function daysUntil(iso: string): number {
  return Math.ceil((Date.parse(iso) - Date.now()) / 86_400_000);
}

/** A certification's effective status as the matrix shows it (expiring within 30 days). */
export function displayStatus(status: string, expiresAt: string | null): string {
  if (status === "certified" && expiresAt && daysUntil(expiresAt) <= 30) return "expiring";
  return status;
}
