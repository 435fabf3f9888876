import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type ColumnDef, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import { api, errorText, ok } from "../api";
import { matrixRoute } from "../router";
import { Empty, Failure, formatDate, Loading, ScreenTitle, statusWord } from "../ui";
import { useViewer } from "../viewer";

const PAGE = 200;
const ROW_HEIGHT = 36;

interface Cell {
  state: "certified" | "expiring" | "expired" | "revoked" | "requested";
  user_skill_id: string | null;
  request_id: string | null;
  expires_at: string | null;
}
interface Row {
  user_id: string;
  display_name: string | null;
  cells: Record<string, Cell>;
}
interface Skill {
  id: string;
  name: string;
  category: string;
}

type MatrixQuery = { makerspace_id?: string; category?: string; skill_id?: string; q?: string };

function matrixPage(query: MatrixQuery, cursor: string | undefined) {
  return ok(
    api().api.v1.skills.matrix.$get({
      query: { ...query, limit: String(PAGE), ...(cursor ? { cursor } : {}) },
    }),
  );
}

const csvField = (v: string) => (/[",\n\r]/.test(v) || /^[=+\-@\t\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** Members × skills: one state per cell, sticky headers, rows virtualised and fetched by page. */
export function Matrix() {
  const viewer = useViewer();
  const search = matrixRoute.useSearch();
  const navigate = useNavigate({ from: "/matrix" });
  const id = useId();
  const admin = viewer.kind === "admin";
  const query: MatrixQuery = {
    ...(admin && viewer.makerspaceId ? { makerspace_id: viewer.makerspaceId } : {}),
    ...(search.category ? { category: search.category } : {}),
    ...(search.skill ? { skill_id: search.skill } : {}),
    ...(search.q ? { q: search.q } : {}),
  };
  // Filter choices: every column the caller may see, unfiltered (first page, one row).
  const choices = useQuery({
    queryKey: ["matrix-columns", viewer.makerspaceId],
    queryFn: () => matrixPage({ ...(query.makerspace_id ? { makerspace_id: query.makerspace_id } : {}) }, undefined),
    select: (m) => m.skills,
  });
  const pages = useInfiniteQuery({
    queryKey: ["matrix", query],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => matrixPage(query, pageParam),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const skills: Skill[] = pages.data?.pages[0]?.skills ?? [];
  const rows: Row[] = useMemo(() => pages.data?.pages.flatMap((p) => p.rows) ?? [], [pages.data]);
  const categories = [...new Set((choices.data ?? []).map((s) => s.category))].sort();

  const columns = useMemo<ColumnDef<Row>[]>(
    () => [
      { id: "member", header: "Member", accessorFn: (r) => r.display_name ?? r.user_id },
      ...skills.map<ColumnDef<Row>>((s) => ({
        id: s.id,
        header: s.name,
        accessorFn: (r) => r.cells[s.id]?.state ?? "none",
      })),
    ],
    [skills],
  );
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel() });
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtual.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (pages.hasNextPage && !pages.isFetchingNextPage && lastIndex >= rows.length - 40) pages.fetchNextPage();
  }, [lastIndex, rows.length, pages]);
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = virtual.getTotalSize() - (items.at(-1)?.end ?? 0);

  const [csvState, setCsvState] = useState<string | null>(null);
  const download = async () => {
    setCsvState("Preparing the CSV…");
    try {
      const all: Row[] = [];
      let cursor: string | undefined;
      let cols: Skill[] = [];
      do {
        const page = await matrixPage(query, cursor);
        cols = page.skills;
        all.push(...page.rows);
        cursor = page.next_cursor ?? undefined;
        setCsvState(`Preparing the CSV… ${all.length} members`);
      } while (cursor);
      const lines = [
        ["user_id", "display_name", ...cols.map((s) => s.name)].map(csvField).join(","),
        ...all.map((r) =>
          [r.user_id, r.display_name ?? "", ...cols.map((s) => r.cells[s.id]?.state ?? "none")].map(csvField).join(","),
        ),
      ];
      const url = URL.createObjectURL(new Blob([`${lines.join("\r\n")}\r\n`], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = "training-matrix.csv";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setCsvState(`Downloaded ${all.length} members × ${cols.length} skills.`);
    } catch (e) {
      setCsvState(errorText(e));
    }
  };

  const setSearch = (patch: Partial<typeof search>) => navigate({ search: (s) => ({ ...s, ...patch }), replace: true });
  const [q, setQ] = useState(search.q ?? "");
  useEffect(() => {
    const t = setTimeout(() => {
      const next = q.trim() || undefined;
      if (next !== search.q) setSearch({ q: next });
    }, 250);
    return () => clearTimeout(t);
  });

  const openCell = (row: Row, skill: Skill, cell: Cell | undefined) => {
    if (cell?.user_skill_id && cell.state !== "requested") {
      navigate({ to: "/members/$userId", params: { userId: row.user_id }, search: { cert: cell.user_skill_id } });
    } else {
      navigate({ to: "/members/$userId", params: { userId: row.user_id }, search: { grant: skill.id } });
    }
  };
  const skillOf = new Map(skills.map((s) => [s.id, s]));

  return (
    <>
      <ScreenTitle>Training matrix</ScreenTitle>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${id}-cat`}>Category</label>
          <select
            id={`${id}-cat`}
            value={search.category ?? ""}
            onChange={(e) => setSearch({ category: e.target.value || undefined })}
          >
            <option value="">All categories</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-skill`}>Skill</label>
          <select
            id={`${id}-skill`}
            value={search.skill ?? ""}
            onChange={(e) => setSearch({ skill: e.target.value || undefined })}
          >
            <option value="">All skills</option>
            {(choices.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-q`}>Member</label>
          <input
            id={`${id}-q`}
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            maxLength={100}
            autoComplete="off"
          />
        </div>
        <div className="filter-action">
          <button type="button" onClick={download}>
            Download CSV
          </button>
        </div>
      </form>
      {csvState && <p role="status">{csvState}</p>}
      <ul className="legend" aria-label="Cell states">
        {(["certified", "expiring", "expired", "revoked", "requested", "none"] as const).map((s) => (
          <li key={s}>
            <span className={`cell c-${s}`}>{statusWord(s)}</span>
          </li>
        ))}
      </ul>
      {pages.isPending && <Loading what="the matrix" />}
      {pages.isError && <Failure error={pages.error} />}
      {pages.data && skills.length === 0 && <Empty>No skills match.</Empty>}
      {pages.data && skills.length > 0 && rows.length === 0 && (
        <Empty>No members hold or requested these skills yet.</Empty>
      )}
      {rows.length > 0 && (
        <section
          className="matrix-scroll"
          ref={scroller}
          aria-labelledby={`${id}-cap`}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: the scroll area must be reachable by keyboard
          tabIndex={0}
        >
          <table className="matrix" aria-rowcount={pages.hasNextPage ? -1 : rows.length + 1}>
            <caption id={`${id}-cap`} className="visually-hidden">
              Training matrix: members by skill
            </caption>
            <thead>
              {table.getHeaderGroups().map((g) => (
                <tr key={g.id} aria-rowindex={1}>
                  {g.headers.map((h) => (
                    <th key={h.id} scope="col" className={h.column.id === "member" ? "corner" : "skill-head"}>
                      {flexRender(h.column.columnDef.header, h.getContext())}
                    </th>
                  ))}
                </tr>
              ))}
            </thead>
            <tbody>
              {paddingTop > 0 && (
                <tr className="spacer" style={{ height: paddingTop }}>
                  <td colSpan={skills.length + 1} />
                </tr>
              )}
              {items.map((v) => {
                const row = table.getRowModel().rows[v.index];
                if (!row) return null;
                const r = row.original;
                return (
                  <tr key={row.id} aria-rowindex={v.index + 2} style={{ height: ROW_HEIGHT }}>
                    {row.getVisibleCells().map((cell) => {
                      if (cell.column.id === "member") {
                        return (
                          <th key={cell.id} scope="row" className="member-head">
                            {r.display_name ?? r.user_id}
                          </th>
                        );
                      }
                      const skill = skillOf.get(cell.column.id);
                      const c = r.cells[cell.column.id];
                      const state = c?.state ?? "none";
                      if (!skill) return <td key={cell.id} />;
                      const label = `${skill.name} for ${r.display_name ?? r.user_id}: ${statusWord(state)}${
                        c?.expires_at ? `, until ${formatDate(c.expires_at)}` : ""
                      }`;
                      return (
                        <td key={cell.id}>
                          <button
                            type="button"
                            className={`cell c-${state}`}
                            aria-label={label}
                            title={label}
                            onClick={() => openCell(r, skill, c)}
                          >
                            {statusWord(state)}
                          </button>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
              {paddingBottom > 0 && (
                <tr className="spacer" style={{ height: paddingBottom }}>
                  <td colSpan={skills.length + 1} />
                </tr>
              )}
            </tbody>
          </table>
        </section>
      )}
      {pages.isFetchingNextPage && <Loading what="more members" />}
    </>
  );
}
