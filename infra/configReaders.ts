// Readers for raw stack config values, shared by the config modules so that every key is parsed,
// defaulted and refused the same way. Each reports through `bad` and never throws.

/** Records one problem: the key, the value as given, and what is allowed. */
export type Bad = (key: string, value: string | undefined, allowed: string) => void;

export type Raw = Record<string, string | undefined>;

/** An integer from min to max; `note` is appended to the refusal. */
export function readInteger(
  raw: Raw,
  bad: Bad,
  key: string,
  fallback: number,
  [min, max]: readonly [number, number],
  note = "",
): number {
  const text = raw[key];
  if (text === undefined) {
    return fallback;
  }
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || n < min || n > max) {
    bad(key, text, `must be an integer from ${min} to ${max}${note}`);
  }
  return n;
}

/** "true" or "false". */
export function readFlag(raw: Raw, bad: Bad, key: string, fallback: boolean): boolean {
  const text = raw[key];
  if (text === undefined) {
    return fallback;
  }
  if (text !== "true" && text !== "false") {
    bad(key, text, "must be true or false");
  }
  return text === "true";
}

/** JSON text (Pulumi hands objects and lists over as JSON); `ok: false` when it does not parse. */
export function parseJsonText(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
