import type { CertificationRow } from "../certifications/row";
import { isUnexpired } from "../certifications/rules";
import { sha256Hex } from "../platform/hash";
import type { AllowlistEntry } from "./allowlists.schemas";
import { decideAccess } from "./decide";
import type { EquipmentRequirements } from "./requirements-cache";

/** A member's live certification of a skill an item requires. */
export type CertifiedRow = Pick<CertificationRow, "user_id" | "skill_id" | "expires_at">;

export interface BadgeHashRow {
  user_id: string;
  uid_sha256: string;
}

export interface RuleSettings {
  now: Date;
  enforcement: boolean;
  emergencyOverride: boolean;
}

export interface AllowlistContent {
  open: boolean;
  entries: AllowlistEntry[];
  version: string;
}

function earliest(dates: (string | null)[]): string | null {
  const set = dates.filter((d): d is string => d !== null).sort();
  return set[0] ?? null;
}

/**
 * Who may use `item` now, by the access rule itself (decideAccess; docs/API.md, "Equipment access") applied to
 * each certified user. When the rule lets in a user holding nothing (no linked skills, emergency
 * override, enforcement off) the list is `open` with no entries; closed equipment yields no
 * entries. `version` hashes `open` and the sorted entries only, so it changes exactly when what
 * a controller would decide changes.
 */
export async function allowlistContent(
  item: EquipmentRequirements,
  certified: CertifiedRow[],
  badges: BadgeHashRow[],
  rule: RuleSettings,
): Promise<AllowlistContent> {
  const decide = (certifications: CertifiedRow[]) =>
    decideAccess({
      equipmentStatus: item.status,
      requiredSkills: item.requiredSkills,
      certifications,
      now: rule.now,
      enforcement: rule.enforcement,
      emergencyOverride: rule.emergencyOverride,
    });

  const open = decide([]).can_access;
  const entries: AllowlistEntry[] = [];
  if (!open && item.status === "available") {
    const required = new Set(item.requiredSkills.map((s) => s.id));
    const byUser = new Map<string, CertifiedRow[]>();
    for (const row of certified) {
      if (!required.has(row.skill_id)) continue;
      const list = byUser.get(row.user_id) ?? [];
      list.push(row);
      byUser.set(row.user_id, list);
    }
    const hashes = new Map<string, Set<string>>();
    for (const b of badges) {
      const set = hashes.get(b.user_id) ?? new Set<string>();
      set.add(b.uid_sha256);
      hashes.set(b.user_id, set);
    }
    for (const [userId, rows] of byUser) {
      if (!decide(rows).can_access) continue;
      const nowIso = rule.now.toISOString();
      const live = rows.filter((r) => isUnexpired(r.expires_at, nowIso));
      entries.push({
        user_id: userId,
        badge_sha256: [...(hashes.get(userId) ?? [])].sort(),
        expires_at: earliest(live.map((r) => r.expires_at)),
      });
    }
    entries.sort((a, b) => (a.user_id < b.user_id ? -1 : a.user_id > b.user_id ? 1 : 0));
  }
  return { open, entries, version: await sha256Hex(JSON.stringify({ open, entries })) };
}
