/** JSON log lines; Workers Logs and `wrangler tail` index the fields. */
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** One object per request and no closures: every request makes one, few ever log. */
class JsonLogger implements Logger {
  constructor(private readonly base: Record<string, unknown>) {}

  info(msg: string, fields?: Record<string, unknown>): void {
    console.log(this.line("info", msg, fields));
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    console.warn(this.line("warn", msg, fields));
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    console.error(this.line("error", msg, fields));
  }

  private line(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
    return JSON.stringify({ level, msg, time: new Date().toISOString(), ...this.base, ...fields });
  }
}

export function createLogger(base: Record<string, unknown> = {}): Logger {
  return new JsonLogger(base);
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
