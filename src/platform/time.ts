/** ISO-8601 UTC with milliseconds and `Z`, the only timestamp format the API reads or writes. */
export function iso(date: Date): string {
  return date.toISOString();
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

export function addSeconds(date: Date, seconds: number): Date {
  return new Date(date.getTime() + seconds * 1000);
}

/**
 * A certification counts only while `expires_at` is null or after now (`nowIso` from `iso()`;
 * fixed-format ISO strings compare correctly as text). One expiring exactly now is expired.
 */
export function isUnexpired(expiresAt: string | null, nowIso: string): boolean {
  return expiresAt === null || expiresAt > nowIso;
}

/** Midnight UTC of the day `date` falls on. */
export function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}
