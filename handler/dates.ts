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

// Day numbers and civil dates convert with integer arithmetic (H. Hinnant, "chrono-Compatible
// Low-Level Date Algorithms": days_from_civil, civil_from_days), not through Date: the tagger
// converts a few dates for each of a million snapshots, and Date's formatting cost a tenth of a
// steady pass's CPU in the benchmark's profile.

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/** YYYY-MM-DD of a day number from MIN_DAY to MAX_DAY (four-digit years). */
function formatDay(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** The UTC calendar date of an instant, as YYYY-MM-DD. */
export function isoDateUtc(instant: Date): string {
  const day = Math.floor(instant.getTime() / MS_PER_DAY);
  // Outside 1970-9999 (or an invalid Date), Date's own form: "+010000-01-01" fails every check.
  return day >= MIN_DAY && day <= MAX_DAY ? formatDay(day) : instant.toISOString().slice(0, 10);
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

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
  if (year < 1970 || month < 1 || month > 12 || day < 1) {
    return undefined;
  }
  const monthDays = month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1];
  return day <= monthDays ? daysFromCivil(year, month, day) : undefined;
}

/** The date of a day number, or undefined outside 1970-01-01 to 9999-12-31. */
export function dateOfDay(day: number): string | undefined {
  if (!Number.isInteger(day) || day < MIN_DAY || day > MAX_DAY) {
    return undefined;
  }
  return formatDay(day);
}

/**
 * The date `days` calendar days after (or before, if negative) a valid date; undefined when the
 * date is malformed or the result would leave 1970-01-01 to 9999-12-31.
 */
export function addDays(date: string, days: number): string | undefined {
  const day = dayNumber(date);
  return day === undefined ? undefined : dateOfDay(day + days);
}
