import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { api, ok } from "../api";
import { Failure, formatTime, Loading, ScreenTitle } from "../ui";
import { useViewer } from "../viewer";
import { MyPage } from "./me";

const ACTION_WORDS: Record<string, string> = {
  skill_granted: "granted a certification",
  skill_renewed: "renewed a certification",
  skill_revoked: "revoked a certification",
  skill_expired: "certification expired",
  request_created: "requested a skill",
  request_approved: "approved a request",
  request_rejected: "rejected a request",
  badge_registered: "registered a badge",
  badge_removed: "removed a badge",
  skill_created: "created a skill",
  skill_updated: "updated a skill",
  equipment_created: "added equipment",
  equipment_updated: "updated equipment",
};

/** The first screen: an admin's overview, everyone else's own certifications. */
export function Overview() {
  const viewer = useViewer();
  if (viewer.loading) return <Loading what="your console" />;
  if (viewer.kind !== "admin") return <MyPage />;
  return <AdminOverview makerspaceId={viewer.makerspaceId ?? ""} />;
}

function AdminOverview({ makerspaceId }: { makerspaceId: string }) {
  const overview = useQuery({
    queryKey: ["overview", makerspaceId],
    queryFn: () =>
      ok(
        api().api.v1.makerspaces[":makerspace_id"].overview.$get({
          param: { makerspace_id: encodeURIComponent(makerspaceId) },
        }),
      ),
  });
  const c = overview.data?.counts;
  const activity = overview.data?.latest_activity ?? [];
  const tiles = c
    ? [
        { label: "Members", value: c.members, to: "/members" as const, search: {} },
        { label: "Certifications in force", value: c.certifications_in_force, to: "/matrix" as const, search: {} },
        { label: "Expiring within 30 days", value: c.expiring_30d, to: "/matrix" as const, search: {} },
        {
          label: "Pending requests",
          value: c.pending_requests,
          to: "/requests" as const,
          search: { status: "pending" as const },
        },
      ]
    : [];
  return (
    <>
      <ScreenTitle>Overview</ScreenTitle>
      {overview.isPending && <Loading what="the overview" />}
      {overview.isError && <Failure error={overview.error} />}
      {c && (
        <>
          <ul className="tiles" aria-label="Counts">
            {tiles.map((t) => (
              <li key={t.label}>
                <Link to={t.to} search={t.search} className="tile">
                  <span className="tile-value">{t.value}</span>
                  <span className="tile-label">{t.label}</span>
                </Link>
              </li>
            ))}
            <li>
              <div className="tile">
                <span className="tile-value">{c.equipment_maintenance}</span>
                <span className="tile-label">Equipment in maintenance</span>
              </div>
            </li>
            <li>
              <div className="tile">
                <span className="tile-value">{c.devices_offline}</span>
                <span className="tile-label">Devices offline</span>
              </div>
            </li>
          </ul>
          <section aria-labelledby="activity-h">
            <h2 id="activity-h">Latest activity</h2>
            {activity.length === 0 ? (
              <p className="empty">Nothing has happened here yet.</p>
            ) : (
              <ol className="activity">
                {activity.map((e) => (
                  <li key={e.id}>
                    <span className="muted">{formatTime(e.created_at)}</span> <span>{e.performed_by ?? "system"}</span>{" "}
                    {ACTION_WORDS[e.action] ?? e.action.replace(/_/g, " ")}
                    {e.user_id && (
                      <>
                        {" "}
                        for{" "}
                        <Link to="/members/$userId" params={{ userId: e.user_id }} search={{}}>
                          {e.user_id}
                        </Link>
                      </>
                    )}
                  </li>
                ))}
              </ol>
            )}
          </section>
        </>
      )}
    </>
  );
}
