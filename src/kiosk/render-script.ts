/**
 * The member view's rendering, part of the kiosk script's closure (see ./script.ts). Builds nodes
 * with textContent only, so names typed by admins can never become markup. Tiles carry
 * `data-equipment-id` and `data-access` (`yes` | `no` | `maintenance`) for the browser tests.
 */
export const KIOSK_RENDER_SCRIPT = `
const EXPIRING_DAYS = 30;
const DAY_MS = 86400000;
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "long" });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function section(title, subtitle) {
  const wrap = el("section");
  wrap.append(el("h2", "", title));
  if (subtitle) wrap.append(el("p", "hint", subtitle));
  return wrap;
}

const STATUS_LABEL = { certified: "Certified", expired: "Expired", revoked: "Revoked", pending: "Awaiting approval" };

function certCard(cert, now) {
  const card = el("div", "card cert");
  card.dataset.skillId = cert.skill_id;
  card.append(el("div", "name", cert.skill_name));
  card.append(el("span", "pill " + cert.status, STATUS_LABEL[cert.status] || cert.status));
  const expires = cert.expires_at ? new Date(cert.expires_at) : null;
  let when = "";
  if (cert.status === "certified") {
    if (!expires) when = "Does not expire";
    else {
      const days = Math.ceil((expires.getTime() - now) / DAY_MS);
      if (days <= EXPIRING_DAYS) {
        card.classList.add("expiring");
        when = "Expires in " + days + (days === 1 ? " day" : " days") + " — on " + dateFormat.format(expires);
      } else {
        when = "Valid until " + dateFormat.format(expires);
      }
    }
  } else if (cert.status === "expired" && expires) {
    when = "Expired on " + dateFormat.format(expires);
  } else if (cert.status === "revoked") {
    when = "Ask a staff member about renewing it";
  }
  if (when) card.append(el("div", "when", when));
  return card;
}

const ORDER = { certified: 0, pending: 1, expired: 2, revoked: 3 };

function renderCerts(certs) {
  const wrap = section("Your certifications");
  if (certs.length === 0) {
    wrap.append(el("p", "empty", "You have no certifications yet."));
    return wrap;
  }
  const now = Date.now();
  const sorted = certs.slice().sort((a, b) =>
    (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || String(a.expires_at || "~").localeCompare(String(b.expires_at || "~")));
  const grid = el("div", "certs");
  for (const cert of sorted) grid.append(certCard(cert, now));
  wrap.append(grid);
  return wrap;
}

function pendingNode() { return el("span", "status-pending", "Requested — pending"); }

function missingItem(name) {
  const li = el("li");
  li.append(el("span", "skill", name));
  const skillId = member.skillIds.get(name);
  if (!skillId) return li;
  if (member.pending.has(skillId)) {
    li.append(pendingNode());
  } else {
    const button = el("button", "", "Request training");
    button.type = "button";
    button.dataset.skillId = skillId;
    li.append(button);
  }
  return li;
}

function tile(item) {
  const closed = member.maintenance.has(item.equipment_id);
  const kind = closed ? "maintenance" : item.can_access ? "yes" : "no";
  const card = el("div", "card tile " + (kind === "yes" ? "ok" : kind));
  card.dataset.equipmentId = item.equipment_id;
  card.dataset.access = kind;
  card.append(el("div", "name", item.equipment_name));
  const verdict = { yes: "You may use it", no: "Training needed", maintenance: "Under maintenance" }[kind];
  card.append(el("div", "verdict", verdict));
  if (item.missing_skills.length > 0) {
    card.append(el("div", "hint", "Missing:"));
    const list = el("ul", "missing");
    for (const name of item.missing_skills) list.append(missingItem(name));
    card.append(list);
  }
  return card;
}

function renderEquipment() {
  const s = member.summary;
  const wrap = section("Equipment", "You may use " + s.accessible_equipment + " of " + s.total_equipment + ".");
  if (member.access.length === 0) {
    wrap.append(el("p", "empty", "No equipment is registered yet."));
    return wrap;
  }
  const grid = el("div", "tiles");
  const rank = { yes: 0, no: 1, maintenance: 2 };
  const items = member.access.slice().sort((a, b) => {
    const ka = member.maintenance.has(a.equipment_id) ? "maintenance" : a.can_access ? "yes" : "no";
    const kb = member.maintenance.has(b.equipment_id) ? "maintenance" : b.can_access ? "yes" : "no";
    return rank[ka] - rank[kb] || a.equipment_name.localeCompare(b.equipment_name);
  });
  for (const item of items) grid.append(tile(item));
  wrap.append(grid);
  return wrap;
}

function renderMember() {
  $("member-who").textContent = "Hello, " + member.userId;
  banner($("member-error"), "");
  $("member-body").replaceChildren(renderCerts(member.certs), renderEquipment());
  $("member-body").scrollTop = 0;
}

function markPending(skillId) {
  member.pending.add(skillId);
  for (const button of $("member-body").querySelectorAll("button[data-skill-id]")) {
    if (button.dataset.skillId === skillId) button.replaceWith(pendingNode());
  }
}
`;
