import { useQuery } from "@tanstack/react-query";
import { api, ok } from "./api";
import { useAuth } from "./auth";

export type ViewerKind = "admin" | "instructor" | "member";

export interface Viewer {
  kind: ViewerKind;
  sub: string;
  role: string;
  makerspaceId: string | null;
  /** The skills an instructor instructs (GET /instructors/me); empty for others. */
  instructs: { id: string; name: string }[];
  loading: boolean;
}

/**
 * What the console offers follows what the API allows: admins (and a super_admin inside the
 * makerspace it picked) everything of their makerspace; a member who instructs skills those
 * skills' rows and actions; any other member its own certifications and requests.
 */
export function useViewer(): Viewer {
  const { claims, makerspaceId, token } = useAuth();
  const isMember = claims?.role === "member";
  const instructs = useQuery({
    queryKey: ["instructors-me", token],
    enabled: isMember,
    queryFn: () => ok(api().api.v1.instructors.me.$get({ query: { limit: "200" } })),
  });
  const skills = (instructs.data ?? []).map((s) => ({ id: s.id, name: s.name }));
  const kind: ViewerKind = !isMember ? "admin" : skills.length > 0 ? "instructor" : "member";
  return {
    kind,
    sub: claims?.sub ?? "",
    role: claims?.role ?? "",
    makerspaceId,
    instructs: skills,
    loading: isMember && instructs.isPending,
  };
}
