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

/** A logger that writes JSON lines to a stream-like sink (console.log in Lambda, stderr locally). */
export function jsonLogger(write: (line: string) => void, base: Record<string, unknown> = {}): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ level, message, ...base, ...fields }));
  return {
    info: (message, fields) => emit("INFO", message, fields),
    warn: (message, fields) => emit("WARN", message, fields),
    error: (message, fields) => emit("ERROR", message, fields),
  };
}
