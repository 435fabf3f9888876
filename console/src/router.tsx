import { createRootRoute, createRoute, createRouter } from "@tanstack/react-router";
import { Callback } from "./screens/callback";
import { Matrix } from "./screens/matrix";
import { MemberPage } from "./screens/member";
import { Members } from "./screens/members";
import { Overview } from "./screens/overview";
import { Requests } from "./screens/requests";
import { Shell } from "./shell";

const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

const rootRoute = createRootRoute({ component: Shell });

export const overviewRoute = createRoute({ getParentRoute: () => rootRoute, path: "/", component: Overview });

export const membersRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/members",
  validateSearch: (s: Record<string, unknown>): { q?: string; status?: "active" | "suspended" } => ({
    q: text(s.q),
    status: s.status === "active" || s.status === "suspended" ? s.status : undefined,
  }),
  component: Members,
});

export const memberRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/members/$userId",
  validateSearch: (s: Record<string, unknown>): { cert?: string; grant?: string } => ({
    cert: text(s.cert),
    grant: text(s.grant),
  }),
  component: MemberPage,
});

export const requestsRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/requests",
  validateSearch: (s: Record<string, unknown>): { status?: "pending" | "approved" | "rejected" } => ({
    status: s.status === "pending" || s.status === "approved" || s.status === "rejected" ? s.status : undefined,
  }),
  component: Requests,
});

export const matrixRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/matrix",
  validateSearch: (s: Record<string, unknown>): { category?: string; skill?: string; q?: string } => ({
    category: text(s.category),
    skill: text(s.skill),
    q: text(s.q),
  }),
  component: Matrix,
});

export const callbackRoute = createRoute({ getParentRoute: () => rootRoute, path: "/callback", component: Callback });

const routeTree = rootRoute.addChildren([
  overviewRoute,
  membersRoute,
  memberRoute,
  requestsRoute,
  matrixRoute,
  callbackRoute,
]);

export const router = createRouter({ routeTree, basepath: "/admin", defaultPreload: false, scrollRestoration: true });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
