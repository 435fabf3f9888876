import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { MAX_IMPORT_BYTES } from "../certifications/import/schemas";
import type { AppEnv } from "../platform/context";
import { AppError } from "../platform/errors";

/** Every JSON body of the API. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The routes whose body is not JSON: read as sent (the JSON middleware leaves them alone) and
 * limited by their own size. Paths without a trailing slash.
 */
const RAW_BODY_ROUTES = new Map<string, number>([["/api/v1/skills/user-skills/import", MAX_IMPORT_BYTES]]);

/** The raw-body limit of this path, or undefined for a JSON route. */
export function rawBodyLimit(path: string): number | undefined {
  return RAW_BODY_ROUTES.get(path.replace(/\/+$/, ""));
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`);

function limit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError("payload_too_large", `Request body is larger than ${sizeText(maxSize)}`);
    },
  });
}

const jsonLimit = limit(MAX_BODY_BYTES);
const rawLimits = new Map([...RAW_BODY_ROUTES.values()].map((max) => [max, limit(max)]));

/** 413 `payload_too_large` past the route's limit: 64 KiB for JSON, the route's own for raw bodies. */
export const bodyLimits = createMiddleware<AppEnv>(async (c, next) => {
  const raw = rawBodyLimit(c.req.path);
  const check = raw === undefined ? jsonLimit : (rawLimits.get(raw) ?? jsonLimit);
  return check(c, next);
});
