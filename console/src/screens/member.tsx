import { useMutation, useQueries, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useRef, useState } from "react";
import { ApiError, api, errorText, ok } from "../api";
import { useDraft } from "../draft";
import { memberRoute } from "../router";
import { displayStatus, Empty, Failure, formatDate, Loading, ScreenTitle, StatusBadge } from "../ui";
import { useViewer } from "../viewer";

const endOfDay = (date: string) => (date ? `${date}T23:59:59.999Z` : null);

/** A member's page: certifications (grant, renew, revoke), requests, badges, what they may use. */
export function MemberPage() {
  const { userId } = memberRoute.useParams();
  const viewer = useViewer();
  const admin = viewer.kind === "admin";
  const ms = viewer.makerspaceId ?? undefined;
  // An admin reads every certification of the member; an instructor those of its skills.
  const adminCerts = useQuery({
    queryKey: ["certs", ms, userId],
    enabled: admin,
    queryFn: () =>
      ok(api().api.v1.skills["user-skills"].$get({ query: { user_id: userId, makerspace_id: ms, limit: "200" } })),
  });
  const taughtCerts = useQueries({
    queries: (admin ? [] : viewer.instructs).map((s) => ({
      queryKey: ["certs", ms, userId, s.id],
      queryFn: () =>
        ok(api().api.v1.skills["user-skills"].$get({ query: { user_id: userId, skill_id: s.id, limit: "200" } })),
    })),
  });
  const certs = admin
    ? adminCerts.data
    : taughtCerts.every((q) => q.data)
      ? taughtCerts.flatMap((q) => q.data ?? [])
      : undefined;
  const certsError = admin ? adminCerts.error : taughtCerts.find((q) => q.error)?.error;
  const id = useId();
  return (
    <>
      <ScreenTitle>{`Member ${userId}`}</ScreenTitle>
      <section aria-labelledby={`${id}-certs`}>
        <h2 id={`${id}-certs`}>Certifications</h2>
        {!certs && !certsError && <Loading what="certifications" />}
        {certsError && <Failure error={certsError} />}
        {certs && certs.length === 0 && <Empty>No certifications yet.</Empty>}
        {certs && certs.length > 0 && <CertificationTable userId={userId} certs={certs} />}
        <GrantForm userId={userId} />
      </section>
      <MemberRequests userId={userId} />
      {admin && <Badges userId={userId} />}
      {admin && <AccessMap userId={userId} />}
    </>
  );
}

interface Cert {
  id: string;
  skill_id: string;
  skill_name: string;
  status: string;
  expires_at: string | null;
  certified_by: string | null;
}

function CertificationTable({ userId, certs }: { userId: string; certs: Cert[] }) {
  const opened = memberRoute.useSearch().cert;
  const [revoking, setRevoking] = useState<Cert | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const renew = useMutation({
    mutationFn: (c: Cert) =>
      ok(api().api.v1.skills["user-skills"].$post({ json: { user_id: userId, skill_id: c.skill_id } })),
    onSuccess: (c) => setMessage(`Renewed ${c.skill_name} until ${formatDate(c.expires_at)}.`),
    onError: (e) => setMessage(errorText(e)),
  });
  return (
    <>
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Skill</th>
              <th scope="col">Status</th>
              <th scope="col">Expires</th>
              <th scope="col">Granted by</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {certs.map((c) => (
              <tr key={c.id} id={`cert-${c.id}`} className={opened === c.id ? "highlight" : undefined}>
                <th scope="row">{c.skill_name}</th>
                <td>
                  <StatusBadge status={displayStatus(c.status, c.expires_at)} />
                </td>
                <td>{formatDate(c.expires_at)}</td>
                <td>{c.certified_by ?? "—"}</td>
                <td className="actions">
                  <button
                    type="button"
                    onClick={() => {
                      setMessage(null);
                      renew.mutate(c);
                    }}
                    disabled={renew.isPending}
                    aria-describedby={`cert-${c.id}-name`}
                  >
                    Renew
                  </button>
                  {c.status !== "revoked" && (
                    <button type="button" className="danger" onClick={() => setRevoking(c)}>
                      Revoke
                    </button>
                  )}
                  <span id={`cert-${c.id}-name`} className="visually-hidden">
                    {c.skill_name}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {message && (
        <p role="status" className="notice">
          {message}
        </p>
      )}
      {revoking && (
        <RevokeForm
          userId={userId}
          cert={revoking}
          onDone={(text) => {
            setRevoking(null);
            setMessage(text);
          }}
        />
      )}
    </>
  );
}

function RevokeForm({ userId, cert, onDone }: { userId: string; cert: Cert; onDone: (text: string | null) => void }) {
  const [draft, update, clear] = useDraft(`revoke:${userId}:${cert.id}`, { reason: "" });
  const id = useId();
  const revoke = useMutation({
    mutationFn: () =>
      ok(
        api().api.v1.skills["user-skills"][":id"].revoke.$post({
          param: { id: encodeURIComponent(cert.id) },
          query: {},
          json: { reason: draft.reason.trim() },
        }),
      ),
    onSuccess: (c) => {
      clear();
      onDone(`Revoked ${c.skill_name}.`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.reason.trim()) revoke.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Revoke {cert.skill_name}</h3>
      <label htmlFor={`${id}-reason`}>Reason (required)</label>
      <textarea
        id={`${id}-reason`}
        value={draft.reason}
        onChange={(e) => update("reason", e.target.value)}
        required
        maxLength={500}
        rows={2}
        // biome-ignore lint/a11y/noAutofocus: the form opens on the person's own click
        autoFocus
      />
      {revoke.isError && (
        <p className="error" role="alert">
          {errorText(revoke.error)}
        </p>
      )}
      <div className="row">
        <button type="submit" className="danger" disabled={revoke.isPending}>
          Revoke
        </button>
        <button
          type="button"
          onClick={() => {
            clear();
            onDone(null);
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}

function GrantForm({ userId }: { userId: string }) {
  const viewer = useViewer();
  const preset = memberRoute.useSearch().grant;
  const admin = viewer.kind === "admin";
  const skills = useQuery({
    queryKey: ["skills", viewer.makerspaceId, "active"],
    enabled: admin,
    queryFn: () =>
      ok(
        api().api.v1.skills.$get({
          query: { makerspace_id: viewer.makerspaceId ?? undefined, status: "active", limit: "200" },
        }),
      ),
  });
  const options = admin ? (skills.data ?? []).map((s) => ({ id: s.id, name: s.name })) : viewer.instructs;
  const [draft, update, clear] = useDraft(`grant:${userId}`, {
    skill_id: preset ?? "",
    expires: "",
    notes: "",
    quiz_score: "",
  });
  const [done, setDone] = useState<string | null>(null);
  const id = useId();
  const grant = useMutation({
    mutationFn: () =>
      ok(
        api().api.v1.skills["user-skills"].$post({
          json: {
            user_id: userId,
            skill_id: draft.skill_id,
            expires_at: endOfDay(draft.expires),
            notes: draft.notes || null,
            quiz_score: draft.quiz_score || null,
          },
        }),
      ),
    onSuccess: (c) => {
      clear();
      setDone(`Granted ${c.skill_name}, expires ${formatDate(c.expires_at)}.`);
    },
  });
  const err = grant.error instanceof ApiError ? grant.error : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    grant.mutate();
  };
  if (viewer.kind === "instructor" && userId === viewer.sub) return null;
  return (
    <form className="panel" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h3 id={`${id}-h`}>Grant a certification</h3>
      <div className="grid-form">
        <div>
          <label htmlFor={`${id}-skill`}>Skill</label>
          <select
            id={`${id}-skill`}
            value={draft.skill_id}
            onChange={(e) => update("skill_id", e.target.value)}
            required
            aria-invalid={err?.at("skill_id") ? true : undefined}
          >
            <option value="">Choose a skill</option>
            {options.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
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
          <label htmlFor={`${id}-quiz`}>Quiz score (optional)</label>
          <input
            id={`${id}-quiz`}
            value={draft.quiz_score}
            maxLength={10}
            onChange={(e) => update("quiz_score", e.target.value)}
          />
        </div>
        <div>
          <label htmlFor={`${id}-notes`}>Notes (optional)</label>
          <input
            id={`${id}-notes`}
            value={draft.notes}
            maxLength={1000}
            onChange={(e) => update("notes", e.target.value)}
          />
        </div>
      </div>
      {grant.isError && (
        <p className="error" role="alert">
          {errorText(grant.error)}
        </p>
      )}
      {done && (
        <p role="status" className="notice">
          {done}
        </p>
      )}
      <button type="submit" className="primary" disabled={grant.isPending}>
        Grant certification
      </button>
    </form>
  );
}

function MemberRequests({ userId }: { userId: string }) {
  const viewer = useViewer();
  const admin = viewer.kind === "admin";
  const own = useQuery({
    queryKey: ["requests", viewer.makerspaceId, userId],
    enabled: admin,
    queryFn: () => ok(api().api.v1.skills.requests.$get({ query: { user_id: userId, limit: "200" } })),
  });
  const taught = useQueries({
    queries: (admin ? [] : viewer.instructs).map((s) => ({
      queryKey: ["requests", viewer.makerspaceId, userId, s.id],
      queryFn: () =>
        ok(api().api.v1.skills.requests.$get({ query: { user_id: userId, skill_id: s.id, limit: "200" } })),
    })),
  });
  const rows = admin ? own.data : taught.every((q) => q.data) ? taught.flatMap((q) => q.data ?? []) : undefined;
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Requests</h2>
      {!rows && <Loading what="requests" />}
      {rows && rows.length === 0 && <Empty>No requests.</Empty>}
      {rows && rows.length > 0 && (
        <ul className="plain">
          {rows.map((r) => (
            <li key={r.id}>
              {r.skill_name} <StatusBadge status={r.status} /> <span className="muted">{formatDate(r.created_at)}</span>
              {r.notes && <span className="muted"> · {r.notes}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Badges({ userId }: { userId: string }) {
  const viewer = useViewer();
  const badges = useQuery({
    queryKey: ["badges", viewer.makerspaceId, userId],
    queryFn: () => ok(api().api.v1.badges.$get({ query: { user_id: userId } })),
  });
  const [uid, setUid] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const id = useId();
  const register = useMutation({
    mutationFn: () =>
      ok(
        api().api.v1.badges.$post({
          json: { badge_uid: uid.trim(), user_id: userId, makerspace_id: viewer.makerspaceId ?? "" },
        }),
      ),
    onSuccess: (b) => {
      setUid("");
      setMessage(`Registered the badge ending ${b.uid_last4}.`);
      field.current?.focus();
    },
  });
  const remove = useMutation({
    mutationFn: (badgeId: string) =>
      ok(api().api.v1.badges[":id"].$delete({ param: { id: encodeURIComponent(badgeId) } })),
    onSuccess: () => setMessage("Badge removed."),
  });
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Badges</h2>
      {badges.isPending && <Loading what="badges" />}
      {badges.isError && <Failure error={badges.error} />}
      {badges.data && badges.data.length === 0 && <Empty>No badges.</Empty>}
      {badges.data && badges.data.length > 0 && (
        <ul className="plain">
          {badges.data.map((b) => (
            <li key={b.id}>
              Card ending <strong>{b.uid_last4}</strong> <span className="muted">since {formatDate(b.created_at)}</span>{" "}
              <button
                type="button"
                onClick={() => remove.mutate(b.id)}
                aria-label={`Remove badge ending ${b.uid_last4}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          setMessage(null);
          if (uid.trim()) register.mutate();
        }}
      >
        <label htmlFor={`${id}-uid`}>Badge UID</label>
        <input
          id={`${id}-uid`}
          ref={field}
          value={uid}
          onChange={(e) => setUid(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${id}-uid-help`}
        />
        <span id={`${id}-uid-help`} className="help">
          Click here, then tap the card on the USB reader (it types the UID and Enter).
        </span>
        <button type="submit">Register badge</button>
      </form>
      {(register.isError || remove.isError) && (
        <p className="error" role="alert">
          {errorText(register.error ?? remove.error)}
        </p>
      )}
      {message && <p role="status">{message}</p>}
    </section>
  );
}

function AccessMap({ userId }: { userId: string }) {
  const viewer = useViewer();
  const map = useQuery({
    queryKey: ["access", viewer.makerspaceId, userId],
    queryFn: () =>
      ok(
        api().api.v1.skills.access.equipment.$get({
          query: { user_id: userId, makerspace_id: viewer.makerspaceId ?? undefined, consistency: "strong" },
        }),
      ),
  });
  const id = useId();
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>What they may use</h2>
      {map.isPending && <Loading what="equipment access" />}
      {map.isError && <Failure error={map.error} />}
      {map.data && map.data.equipment_access.length === 0 && <Empty>No equipment in this makerspace.</Empty>}
      {map.data && map.data.equipment_access.length > 0 && (
        <>
          <p>
            May use {map.data.summary.accessible_equipment} of {map.data.summary.total_equipment} items (
            {map.data.summary.access_percentage}%).
          </p>
          <ul className="plain">
            {map.data.equipment_access.map((e) => (
              <li key={e.equipment_id}>
                <strong>{e.equipment_name}</strong>:{" "}
                {e.can_access ? (
                  <span className="badge s-certified">May use</span>
                ) : (
                  <>
                    <span className="badge s-revoked">May not use</span>
                    {e.missing_skills.length > 0 && (
                      <span className="muted"> missing {e.missing_skills.join(", ")}</span>
                    )}
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
