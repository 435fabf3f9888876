import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { api, errorText, ok } from "../api";
import { useDraft } from "../draft";
import { displayStatus, Empty, Failure, formatDate, Loading, ScreenTitle, StatusBadge } from "../ui";
import { useViewer } from "../viewer";

/** A member's own view: its certifications and requests (read-only), and a request for a skill. */
export function MyPage() {
  const viewer = useViewer();
  const certs = useQuery({
    queryKey: ["my-certs", viewer.sub],
    queryFn: () => ok(api().api.v1.skills["user-skills"].$get({ query: { limit: "200" } })),
  });
  const requests = useQuery({
    queryKey: ["my-requests", viewer.sub],
    queryFn: () => ok(api().api.v1.skills.requests.$get({ query: { limit: "200" } })),
  });
  const skills = useQuery({
    queryKey: ["skills", viewer.makerspaceId],
    queryFn: () => ok(api().api.v1.skills.$get({ query: { status: "active", limit: "200" } })),
  });
  const [draft, update, clear] = useDraft(`request:${viewer.sub}`, { skill_id: "", reason: "" });
  const [done, setDone] = useState<string | null>(null);
  const request = useMutation({
    mutationFn: () =>
      ok(api().api.v1.skills.requests.$post({ json: { skill_id: draft.skill_id, reason: draft.reason || null } })),
    onSuccess: (r) => {
      clear();
      setDone(`Requested ${r.skill_name}.`);
    },
  });
  const id = useId();
  return (
    <>
      <ScreenTitle>My certifications</ScreenTitle>
      <section aria-labelledby={`${id}-c`}>
        <h2 id={`${id}-c`}>Certifications</h2>
        {certs.isPending && <Loading what="certifications" />}
        {certs.isError && <Failure error={certs.error} />}
        {certs.data && certs.data.length === 0 && <Empty>You hold no certifications yet.</Empty>}
        {certs.data && certs.data.length > 0 && (
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">Skill</th>
                  <th scope="col">Status</th>
                  <th scope="col">Expires</th>
                </tr>
              </thead>
              <tbody>
                {certs.data.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">{c.skill_name}</th>
                    <td>
                      <StatusBadge status={displayStatus(c.status, c.expires_at)} />
                    </td>
                    <td>{formatDate(c.expires_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby={`${id}-r`}>
        <h2 id={`${id}-r`}>My requests</h2>
        {requests.isPending && <Loading what="requests" />}
        {requests.isError && <Failure error={requests.error} />}
        {requests.data && requests.data.length === 0 && <Empty>No requests.</Empty>}
        {requests.data && requests.data.length > 0 && (
          <ul className="plain">
            {requests.data.map((r) => (
              <li key={r.id}>
                {r.skill_name} <StatusBadge status={r.status} />{" "}
                <span className="muted">{formatDate(r.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            setDone(null);
            request.mutate();
          }}
        >
          <h3>Request a certification</h3>
          <label htmlFor={`${id}-skill`}>Skill</label>
          <select
            id={`${id}-skill`}
            value={draft.skill_id}
            onChange={(e) => update("skill_id", e.target.value)}
            required
          >
            <option value="">Choose a skill</option>
            {(skills.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <label htmlFor={`${id}-reason`}>Why (optional)</label>
          <input id={`${id}-reason`} value={draft.reason} onChange={(e) => update("reason", e.target.value)} />
          <button type="submit" className="primary" disabled={request.isPending}>
            Request certification
          </button>
          {request.isError && (
            <p className="error" role="alert">
              {errorText(request.error)}
            </p>
          )}
          {done && <p role="status">{done}</p>}
        </form>
      </section>
    </>
  );
}
