/** Ids are random UUIDs with a short prefix naming the kind, so a stray id in a log says what it is. */
export type IdKind = "skill" | "eq" | "us" | "req" | "evt" | "dev" | "badge" | "wh" | "whd" | "imp";

export function newId(kind: IdKind): string {
  return `${kind}_${crypto.randomUUID()}`;
}
