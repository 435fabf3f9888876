import { onTestFinished, vi } from "vitest";

/** One JSON line of the service's logger (src/platform/logger.ts). */
export interface LogLine {
  level: "info" | "warn" | "error";
  msg: string;
  [field: string]: unknown;
}

function parseLine(arg: unknown): LogLine | undefined {
  if (typeof arg !== "string" || !arg.startsWith("{")) return undefined;
  try {
    const line = JSON.parse(arg) as Partial<LogLine>;
    return typeof line.level === "string" && typeof line.msg === "string" ? (line as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Captures the service's warn and error lines until the test ends, instead of printing them: a
 * test that provokes a failure on purpose asserts on what was logged, and a green run reads as
 * one. Anything that is not one of the service's JSON lines still prints, so nothing unexpected
 * is hidden. Call it inside the test (it restores console when the test finishes).
 */
export function captureLogs() {
  const lines: LogLine[] = [];
  for (const level of ["warn", "error"] as const) {
    const print = console[level];
    const spy = vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      const line = parseLine(args[0]);
      if (line) lines.push(line);
      else print(...args);
    });
    onTestFinished(() => spy.mockRestore());
  }
  return {
    lines,
    /** The `msg` of each captured line, optionally of one level, in order. */
    messages: (level?: LogLine["level"]) => lines.filter((l) => !level || l.level === level).map((l) => l.msg),
  };
}
