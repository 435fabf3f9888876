import { MutationCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiError } from "./api";
import { takeTokenFromFragment } from "./auth";
import { router } from "./router";
import "./styles.css";

// Before anything renders: a `#token=…` link signs in and leaves the address bar at once.
const linkProblem = takeTokenFromFragment();
if (linkProblem) sessionStorage.setItem("makrcave-console-link-problem", linkProblem);

const retry = (count: number, err: unknown) =>
  count < 2 && !(err instanceof ApiError && err.status > 0 && err.status < 500);

const queryClient: QueryClient = new QueryClient({
  defaultOptions: { queries: { retry, staleTime: 10_000, refetchOnWindowFocus: false } },
  // Every write refreshes what it may have changed (lists, counts, the matrix).
  mutationCache: new MutationCache({ onSuccess: () => queryClient.invalidateQueries() }),
});

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </StrictMode>,
  );
}
