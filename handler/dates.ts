// Calendar dates as day numbers (days since 1970-01-01, UTC). A DeleteOn is a "YYYY-MM-DD" string
// with a four-digit year from 1970-01-01 to 9999-12-31; arithmetic and comparison happen on day
// numbers, never on strings, so no result can leave the range unnoticed ("+010000-01-01" would
// sort before "2026-...") and no year below 100 is silently read as 19xx (as Date.UTC does).

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The first and last dates a DeleteOn may carry. */
export const MIN_DATE = "1970-01-01";
export const MAX_DATE = "9999-12-31";
export const MIN_DAY = 0;
/** Day number of 9999-12-31. */
export const MAX_DAY = 2_932_896;

/** The UTC calendar date of an instant, as YYYY-MM-DD. */
export function isoDateUtc(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/**
 * The day number of a strict YYYY-MM-DD date from 1970-01-01 to 9999-12-31; undefined for
 * anything else (2025-02-30, 2025-1-1, " 2025-01-01", 0100-03-01, 10000-01-01).
 */
export function dayNumber(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) {
    return undefined;
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Checked before Date.UTC, which maps years 0-99 to 1900-1999.
  if (year < 1970) {
    return undefined;
  }
  const epochMs = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over to March; a round trip catches that.
  return isoDateUtc(new Date(epochMs)) === text ? epochMs / MS_PER_DAY : undefined;
}

/** The date of a day number, or undefined outside 1970-01-01 to 9999-12-31. */
export function dateOfDay(day: number): string | undefined {
  if (!Number.isInteger(day) || day < MIN_DAY || day > MAX_DAY) {
    return undefined;
  }
  return isoDateUtc(new Date(day * MS_PER_DAY));
}

/**
 * The date `days` calendar days after (or before, if negative) a valid date; undefined when the
 * date is malformed or the result would leave 1970-01-01 to 9999-12-31.
 */
export function addDays(date: string, days: number): string | undefined {
  const day = dayNumber(date);
  return day === undefined ? undefined : dateOfDay(day + days);
}
