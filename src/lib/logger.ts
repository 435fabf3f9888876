/** JSON log lines; Workers Logs and `wrangler tail` index the fields. */
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(base: Record<string, unknown> = {}): Logger {
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...base, ...fields });
    if (level === "error") console.error(line);
    else if (level === "warn") console.warn(line);
    else console.log(line);
  };
  return {
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
  };
}

/**
 * An error's text, safe for a log line: Drizzle's query errors append the bound parameters
 * (`Failed query: … params: …`), which may hold user ids or badge hashes — they are cut off.
 */
export function errorText(err: unknown): string {
  return withoutParams(err instanceof Error ? err.message : String(err));
}

function withoutParams(text: string): string {
  const at = text.indexOf("\nparams:");
  return at === -1 ? text : `${text.slice(0, at)}\nparams: [redacted]`;
}

/** Name, message, stack and cause of an unexpected error, parameters redacted. */
export function errorFields(err: Error): Record<string, unknown> {
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return {
    error: withoutParams(err.message),
    name: err.name,
    stack: err.stack ? withoutParams(err.stack) : undefined,
    ...(cause ? { cause: withoutParams(cause) } : {}),
  };
}
