// The narrow interfaces the tagger core depends on; the Lambda entry point, the local runner and
// the tests each supply their own.

/** Structured logging: one JSON object per line, fields next to the message. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Milliseconds left before the platform kills the run (Lambda's getRemainingTimeInMillis). */
export type RemainingTime = () => number;

/** The current instant; injected so tests and benchmarks control "today". */
export type Clock = () => Date;

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/** The configured level, or INFO when that is lower: a line at it passes Lambda's filter. */
export function levelAtLeastInfo(minLevel: string): string {
  const level = minLevel.toUpperCase();
  return LEVELS.indexOf(level) > LEVELS.indexOf("INFO") ? level : "INFO";
}

/**
 * A logger that writes one JSON object per line to a sink (stdout in Lambda, stderr locally).
 * Lines below `minLevel` are dropped: in Lambda that is AWS_LAMBDA_LOG_LEVEL, which Lambda sets
 * from the function's applicationLogLevel, since lines written straight to stdout bypass the
 * runtime's own filtering.
 */
export function jsonLogger(
  write: (line: string) => void,
  base: Record<string, unknown> = {},
  minLevel = "INFO",
  clock: () => Date = () => new Date(),
): Logger {
  const threshold = Math.max(0, LEVELS.indexOf(minLevel.toUpperCase()));
  const emit = (level: string, message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) >= threshold) {
      write(JSON.stringify({ timestamp: clock().toISOString(), level, message, ...base, ...fields }));
    }
  };
  return {
    info: (message, fields) => emit("INFO", message, fields),
    warn: (message, fields) => emit("WARN", message, fields),
    error: (message, fields) => emit("ERROR", message, fields),
  };
}
