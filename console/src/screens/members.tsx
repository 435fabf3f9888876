import { useInfiniteQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useEffect, useId, useState } from "react";
import { api, ok } from "../api";
import { membersRoute } from "../router";
import { Empty, Failure, Loading, ScreenTitle } from "../ui";
import { useViewer } from "../viewer";

const PAGE = 50;

/** Members: search as you type (the address bar follows, so the back button and links work), paged by cursor. */
export function Members() {
  const viewer = useViewer();
  const search = membersRoute.useSearch();
  const navigate = useNavigate({ from: "/members" });
  const [q, setQ] = useState(search.q ?? "");
  const id = useId();
  useEffect(() => {
    const t = setTimeout(() => {
      const next = q.trim() || undefined;
      if (next !== search.q) navigate({ search: (s) => ({ ...s, q: next }), replace: true });
    }, 250);
    return () => clearTimeout(t);
  }, [q, search.q, navigate]);
  const list = useInfiniteQuery({
    queryKey: ["members", viewer.makerspaceId, search.q ?? ""],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      ok(
        api().api.v1.skills.matrix.$get({
          query: {
            makerspace_id: viewer.makerspaceId ?? undefined,
            limit: String(PAGE),
            ...(search.q ? { q: search.q } : {}),
            ...(pageParam ? { cursor: pageParam } : {}),
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.rows) ?? [];
  const skills = list.data?.pages[0]?.skills ?? [];
  const nameOf = new Map(skills.map((s) => [s.id, s.name]));
  return (
    <>
      <ScreenTitle>Members</ScreenTitle>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${id}-q`}>Search members</label>
          <input
            id={`${id}-q`}
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            autoComplete="off"
            maxLength={100}
            aria-describedby={`${id}-hint`}
          />
          <span id={`${id}-hint`} className="help">
            Part of a member id.
          </span>
        </div>
      </form>
      {list.isPending && <Loading what="members" />}
      {list.isError && <Failure error={list.error} />}
      {list.data && rows.length === 0 && <Empty>No members match.</Empty>}
      {rows.length > 0 && (
        <div className="scroll">
          <table>
            <caption className="visually-hidden">Members</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Certified in</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const held = Object.entries(r.cells)
                  .filter(([, c]) => c.state === "certified" || c.state === "expiring")
                  .map(([skillId]) => nameOf.get(skillId) ?? skillId);
                return (
                  <tr key={r.user_id}>
                    <th scope="row">
                      <Link to="/members/$userId" params={{ userId: r.user_id }} search={{}}>
                        {r.display_name ?? r.user_id}
                      </Link>
                    </th>
                    <td>{held.length > 0 ? held.join(", ") : <span className="muted">none</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {list.hasNextPage && (
        <button type="button" onClick={() => list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? "Loading…" : "Show more members"}
        </button>
      )}
    </>
  );
}
