/**
 * `npm run routes`: the route table as the app declares it — method, path, who may call, scope and
 * budgets.
 * Read from the same declarations the authorize middleware enforces and /openapi.json publishes.
 */
import { app } from "../src/app";
import { declaredRoutes } from "../src/http/declared";

const rows = declaredRoutes(app).map((r) => {
  const callers = "public" in r.access ? "public (no token)" : r.access.callers.join(", ");
  const scope = "public" in r.access ? "" : r.access.scope.join(", ");
  const exempt = r.budgets?.caller_exempt.length ? ` (not ${r.budgets.caller_exempt.join(", ")})` : "";
  const budgets = (r.budgets?.budgets ?? []).map((b) => (b === "caller" ? `caller${exempt}` : b)).join(", ");
  return [r.method, r.path, callers, scope, budgets];
});
const header = ["METHOD", "PATH", "CALLERS", "SCOPE", "BUDGETS"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
for (const row of [header, ...rows]) {
  console.log(
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
}
