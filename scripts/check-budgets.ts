/**
 * Part of `npm run typecheck`: the budgets in wrangler.toml are consistent in every environment
 * (the top level, staging, production). A Rate Limiting binding's limit is static configuration
 * the Worker cannot read, so this is where each budget variable is held to its binding:
 * - each environment declares the three bindings, counting per minute (`period = 60`);
 * - each variable (empty: its default) is `0` (the budget is off) or exactly its binding's limit;
 * - no namespace id is used twice, so staging never spends production's budgets.
 */
import { experimental_readRawConfig } from "wrangler";
import { BUDGET_NAMES, BUDGETS } from "../src/http/budgets-policy";
import { ConfigSchema } from "../src/platform/config";

interface RateLimitBinding {
  name: string;
  namespace_id: string;
  simple: { limit: number; period: number };
}
interface Section {
  ratelimits?: RateLimitBinding[];
  vars?: Record<string, unknown>;
}

const { rawConfig } = experimental_readRawConfig({ config: "wrangler.toml" });
const root = rawConfig as Section & { env?: Record<string, Section> };
const sections: [string, Section][] = [["top level", root], ...Object.entries(root.env ?? {})];

const problems: string[] = [];
const namespaces = new Map<string, string>();
for (const [where, section] of sections) {
  for (const name of BUDGET_NAMES) {
    const { binding, variable } = BUDGETS[name];
    const limiter = section.ratelimits?.find((r) => r.name === binding);
    if (!limiter) {
      problems.push(`${where}: no [[ratelimits]] binding ${binding}`);
      continue;
    }
    const seen = namespaces.get(limiter.namespace_id);
    if (seen) problems.push(`${where}: ${binding} reuses namespace_id ${limiter.namespace_id} (${seen})`);
    namespaces.set(limiter.namespace_id, `${where} ${binding}`);
    if (limiter.simple.period !== 60) problems.push(`${where}: ${binding} must count per minute (period = 60)`);
    const raw = section.vars?.[variable];
    const parsed = ConfigSchema.shape[variable].safeParse(raw === "" ? undefined : raw);
    if (!parsed.success) {
      problems.push(`${where}: ${variable} = ${JSON.stringify(raw)} is not a whole number`);
    } else if (parsed.data !== 0 && parsed.data !== limiter.simple.limit) {
      problems.push(
        `${where}: ${variable} is ${parsed.data} but ${binding} allows ${limiter.simple.limit} a minute (make them equal, or set ${variable} to "0" to turn the budget off)`,
      );
    }
  }
}

if (problems.length > 0) {
  console.error(`wrangler.toml budgets:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
