// Calendar-date arithmetic on "YYYY-MM-DD" strings, always in UTC: a DeleteOn date must not
// depend on the time zone of whoever runs the tagger.

const MS_PER_DAY = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC calendar date of an instant, as YYYY-MM-DD. */
export function isoDateUtc(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/** Parses a strict YYYY-MM-DD calendar date; undefined for anything else (2025-02-30, 2025-1-1, " 2025-01-01"). */
export function parseIsoDate(text: string): number | undefined {
  const match = ISO_DATE.exec(text);
  if (!match) {
    return undefined;
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const epochMs = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over to March; a round trip catches that.
  return isoDateUtc(new Date(epochMs)) === text ? epochMs : undefined;
}

/** The date `days` calendar days after (or before, if negative) a valid YYYY-MM-DD date. */
export function addDays(isoDate: string, days: number): string {
  const epochMs = parseIsoDate(isoDate);
  if (epochMs === undefined) {
    throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(isoDate)}`);
  }
  return isoDateUtc(new Date(epochMs + days * MS_PER_DAY));
}
