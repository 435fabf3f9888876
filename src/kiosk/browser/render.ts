import type { Member } from "./api";
import { banner, el, ui } from "./ui";

type Cert = Member["certs"][number];
type Access = Member["access"][number];
type Verdict = "yes" | "no" | "maintenance";

const EXPIRING_DAYS = 30;
const DAY_MS = 86_400_000;
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });
const STATUS_LABEL: Record<string, string> = {
  certified: "Certified",
  expired: "Expired",
  revoked: "Revoked",
  pending: "Awaiting approval",
};
const STATUS_ORDER: Record<string, number> = { certified: 0, pending: 1, expired: 2, revoked: 3 };
const VERDICT_LABEL: Record<Verdict, string> = {
  yes: "You may use it",
  no: "Training needed",
  maintenance: "Under maintenance",
};
const VERDICT_ORDER: Record<Verdict, number> = { yes: 0, no: 1, maintenance: 2 };

function section(title: string, subtitle?: string): HTMLElement {
  const wrap = el("section");
  wrap.appendChild(el("h2", "", title));
  if (subtitle) wrap.appendChild(el("p", "hint", subtitle));
  return wrap;
}

function certCard(cert: Cert, now: number): HTMLElement {
  const card = el("div", "card cert");
  card.dataset.skillId = cert.skill_id;
  card.appendChild(el("div", "name", cert.skill_name));
  card.appendChild(el("span", `pill ${cert.status}`, STATUS_LABEL[cert.status] || cert.status));
  const expires = cert.expires_at ? new Date(cert.expires_at) : null;
  let when = "";
  if (cert.status === "certified") {
    if (!expires) when = "Does not expire";
    else {
      const days = Math.ceil((expires.getTime() - now) / DAY_MS);
      if (days <= EXPIRING_DAYS) {
        card.classList.add("expiring");
        when = `Expires in ${days}${days === 1 ? " day" : " days"} — on ${dateFormat.format(expires)}`;
      } else {
        when = `Valid until ${dateFormat.format(expires)}`;
      }
    }
  } else if (cert.status === "expired" && expires) {
    when = `Expired on ${dateFormat.format(expires)}`;
  } else if (cert.status === "revoked") {
    when = "Ask a staff member about renewing it";
  }
  if (when) card.appendChild(el("div", "when", when));
  return card;
}

function renderCerts(certs: Cert[]): HTMLElement {
  const wrap = section("Your certifications");
  if (certs.length === 0) {
    wrap.appendChild(el("p", "empty", "You have no certifications yet."));
    return wrap;
  }
  const now = Date.now();
  const sorted = certs
    .slice()
    .sort(
      (a, b) =>
        (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) ||
        String(a.expires_at || "~").localeCompare(String(b.expires_at || "~")),
    );
  const grid = el("div", "certs");
  for (const cert of sorted) grid.appendChild(certCard(cert, now));
  wrap.appendChild(grid);
  return wrap;
}

function pendingNode(): HTMLElement {
  return el("span", "status-pending", "Requested — pending");
}

function missingItem(member: Member, name: string): HTMLElement {
  const li = el("li");
  li.appendChild(el("span", "skill", name));
  const skillId = member.skillIds.get(name);
  if (!skillId) return li;
  if (member.pending.has(skillId)) {
    li.appendChild(pendingNode());
  } else {
    const button = el("button", "", "Request training");
    button.type = "button";
    button.dataset.skillId = skillId;
    li.appendChild(button);
  }
  return li;
}

function verdict(member: Member, item: Access): Verdict {
  if (member.maintenance.has(item.equipment_id)) return "maintenance";
  return item.can_access ? "yes" : "no";
}

function tile(member: Member, item: Access): HTMLElement {
  const kind = verdict(member, item);
  const card = el("div", `card tile ${kind === "yes" ? "ok" : kind}`);
  card.dataset.equipmentId = item.equipment_id;
  card.dataset.access = kind;
  card.appendChild(el("div", "name", item.equipment_name));
  card.appendChild(el("div", "verdict", VERDICT_LABEL[kind]));
  if (item.missing_skills.length > 0) {
    card.appendChild(el("div", "hint", "Missing:"));
    const list = el("ul", "missing");
    for (const name of item.missing_skills) list.appendChild(missingItem(member, name));
    card.appendChild(list);
  }
  return card;
}

function renderEquipment(member: Member): HTMLElement {
  const s = member.summary;
  const wrap = section("Equipment", `You may use ${s.accessible_equipment} of ${s.total_equipment}.`);
  if (member.access.length === 0) {
    wrap.appendChild(el("p", "empty", "No equipment is registered yet."));
    return wrap;
  }
  const grid = el("div", "tiles");
  const items = member.access
    .slice()
    .sort(
      (a, b) =>
        VERDICT_ORDER[verdict(member, a)] - VERDICT_ORDER[verdict(member, b)] ||
        a.equipment_name.localeCompare(b.equipment_name),
    );
  for (const item of items) grid.appendChild(tile(member, item));
  wrap.appendChild(grid);
  return wrap;
}

/** "Instructor for: …" when the member certifies others in some skills, else nothing. */
function renderInstructs(member: Member): HTMLElement[] {
  if (member.instructs.length === 0) return [];
  return [el("p", "instructor", `Instructor for: ${member.instructs.join(", ")}`)];
}

/**
 * The member view: the skills the member instructs, its certifications, then a tile per item.
 * Tiles carry `data-equipment-id` and `data-access` (`yes` | `no` | `maintenance`) for the
 * browser tests.
 */
export function renderMember(member: Member): void {
  ui.memberWho.textContent = `Hello, ${member.userId}`;
  banner(ui.memberError, "");
  ui.memberBody.replaceChildren(...renderInstructs(member), renderCerts(member.certs), renderEquipment(member));
  ui.memberBody.scrollTop = 0;
}

/** A request was filed (or already was): its buttons become "Requested — pending" without a reload. */
export function markPending(member: Member, skillId: string): void {
  member.pending.add(skillId);
  for (const button of ui.memberBody.querySelectorAll<HTMLButtonElement>("button[data-skill-id]")) {
    if (button.dataset.skillId === skillId) button.replaceWith(pendingNode());
  }
}
