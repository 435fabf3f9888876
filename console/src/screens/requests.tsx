import { useMutation, useQueries } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useId, useState } from "react";
import { api, errorText, ok } from "../api";
import { useDraft } from "../draft";
import { requestsRoute } from "../router";
import { Empty, Failure, formatDate, Loading, ScreenTitle, StatusBadge } from "../ui";
import { useViewer } from "../viewer";

interface Req {
  id: string;
  user_id: string;
  skill_id: string;
  skill_name: string;
  status: "pending" | "approved" | "rejected";
  reason: string | null;
  notes: string | null;
  reviewed_by: string | null;
  created_at: string;
}

const endOfDay = (date: string) => (date ? `${date}T23:59:59.999Z` : null);

/** Requests, pending first (oldest first: first come, first served), then the reviewed ones. */
export function Requests() {
  const viewer = useViewer();
  const { status } = requestsRoute.useSearch();
  const navigate = useNavigate({ from: "/requests" });
  const admin = viewer.kind === "admin";
  // An admin reads the makerspace's requests; an instructor those of each skill it instructs.
  const scopes: (string | undefined)[] = admin ? [undefined] : viewer.instructs.map((s) => s.id);
  const statuses = status ? [status] : (["pending", "approved", "rejected"] as const);
  const results = useQueries({
    queries: scopes.flatMap((skillId) =>
      statuses.map((st) => ({
        queryKey: ["requests", viewer.makerspaceId, st, skillId ?? "all"],
        queryFn: () =>
          ok(
            api().api.v1.skills.requests.$get({
              query: {
                status: st,
                limit: "200",
                ...(admin ? { makerspace_id: viewer.makerspaceId ?? undefined } : {}),
                ...(skillId ? { skill_id: skillId } : {}),
              },
            }),
          ),
      })),
    ),
  });
  const error = results.find((r) => r.error)?.error;
  const loaded = results.every((r) => r.data);
  const all: Req[] = results.flatMap((r) => r.data ?? []);
  const pending = all.filter((r) => r.status === "pending").sort((a, b) => a.created_at.localeCompare(b.created_at));
  const reviewed = all.filter((r) => r.status !== "pending").sort((a, b) => b.created_at.localeCompare(a.created_at));
  const id = useId();
  return (
    <>
      <ScreenTitle>Requests</ScreenTitle>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={status ?? ""}
            onChange={(e) => {
              const v = e.target.value;
              navigate({ search: { status: v === "pending" || v === "approved" || v === "rejected" ? v : undefined } });
            }}
          >
            <option value="">All</option>
            <option value="pending">Pending</option>
            <option value="approved">Approved</option>
            <option value="rejected">Rejected</option>
          </select>
        </div>
      </form>
      {!loaded && !error && <Loading what="requests" />}
      {error && <Failure error={error} />}
      {loaded && all.length === 0 && <Empty>No requests.</Empty>}
      {pending.length > 0 && (
        <section aria-labelledby={`${id}-p`}>
          <h2 id={`${id}-p`}>Pending ({pending.length})</h2>
          <ul className="cards">
            {pending.map((r) => (
              <PendingRequest key={r.id} request={r} />
            ))}
          </ul>
        </section>
      )}
      {reviewed.length > 0 && (
        <section aria-labelledby={`${id}-r`}>
          <h2 id={`${id}-r`}>Reviewed</h2>
          <ul className="plain">
            {reviewed.map((r) => (
              <li key={r.id}>
                <Link to="/members/$userId" params={{ userId: r.user_id }} search={{}}>
                  {r.user_id}
                </Link>{" "}
                {r.skill_name} <StatusBadge status={r.status} />{" "}
                <span className="muted">
                  by {r.reviewed_by ?? "—"}
                  {r.notes ? ` · ${r.notes}` : ""}
                </span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}

function PendingRequest({ request: r }: { request: Req }) {
  const [draft, update, clear] = useDraft(`review:${r.id}`, { quiz_score: "", expires: "", notes: "" });
  const [done, setDone] = useState<string | null>(null);
  const id = useId();
  const review = useMutation({
    mutationFn: (status: "approved" | "rejected") =>
      ok(
        api().api.v1.skills.requests[":id"].$put({
          param: { id: encodeURIComponent(r.id) },
          json:
            status === "approved"
              ? {
                  status,
                  quiz_score: draft.quiz_score || null,
                  expires_at: endOfDay(draft.expires),
                  notes: draft.notes || null,
                }
              : { status, notes: draft.notes || null },
        }),
      ),
    onSuccess: (res) => {
      clear();
      setDone(res.status === "approved" ? "Approved: the certification is granted." : "Rejected.");
    },
  });
  return (
    <li className="card" aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>
        <Link to="/members/$userId" params={{ userId: r.user_id }} search={{}}>
          {r.user_id}
        </Link>{" "}
        asks for {r.skill_name}
      </h3>
      <p className="muted">
        {formatDate(r.created_at)}
        {r.reason ? ` · “${r.reason}”` : ""}
      </p>
      {done ? (
        <p role="status" className="notice">
          {done}
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            review.mutate("approved");
          }}
        >
          <div className="grid-form">
            <div>
              <label htmlFor={`${id}-quiz`}>Quiz score</label>
              <input
                id={`${id}-quiz`}
                value={draft.quiz_score}
                maxLength={10}
                onChange={(e) => update("quiz_score", e.target.value)}
              />
            </div>
            <div>
              <label htmlFor={`${id}-exp`}>Expires (optional)</label>
              <input
                id={`${id}-exp`}
                type="date"
                value={draft.expires}
                onChange={(e) => update("expires", e.target.value)}
              />
            </div>
            <div>
              <label htmlFor={`${id}-notes`}>Notes</label>
              <input
                id={`${id}-notes`}
                value={draft.notes}
                maxLength={1000}
                onChange={(e) => update("notes", e.target.value)}
              />
            </div>
          </div>
          {review.isError && (
            <p className="error" role="alert">
              {errorText(review.error)}
            </p>
          )}
          <div className="row">
            <button type="submit" className="primary" disabled={review.isPending}>
              Approve
            </button>
            <button
              type="button"
              className="danger"
              disabled={review.isPending}
              onClick={() => review.mutate("rejected")}
            >
              Reject
            </button>
          </div>
        </form>
      )}
    </li>
  );
}
