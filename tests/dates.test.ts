import { expect } from "chai";
import fc from "fast-check";
import { MAX_DATE, MAX_DAY, MIN_DATE, addDays, dateOfDay, dayNumber, isoDateUtc } from "../handler/dates";

/** Any text of the shape YYYY-MM-DD, real date or not, years 0000 to 9999. */
const anyDateShape = fc
  .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
  .map(
    ([y, m, d]) =>
      `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`,
  );
const anyDay = fc.integer({ min: 0, max: MAX_DAY });

describe("dates", () => {
  it("takes the UTC calendar date of an instant, whatever the local time zone says", () => {
    expect(isoDateUtc(new Date("2026-03-01T23:59:59-05:00"))).to.equal("2026-03-02");
    expect(isoDateUtc(new Date("2026-03-02T00:30:00+02:00"))).to.equal("2026-03-01");
  });

  it("crosses month and year ends", () => {
    expect(addDays("2026-01-31", 1)).to.equal("2026-02-01");
    expect(addDays("2026-12-31", 1)).to.equal("2027-01-01");
    expect(addDays("2026-03-01", -1)).to.equal("2026-02-28");
  });

  it("counts the leap day in leap years only", () => {
    expect(addDays("2028-02-28", 1)).to.equal("2028-02-29");
    expect(addDays("2027-02-28", 1)).to.equal("2027-03-01");
    expect(addDays("2100-02-28", 1)).to.equal("2100-03-01");
    expect(addDays("2000-02-28", 1)).to.equal("2000-02-29");
    expect(addDays("2028-01-01", 366)).to.equal("2029-01-01");
    expect(dayNumber("2400-02-29")).to.be.a("number");
    expect(dayNumber("2300-02-29")).to.equal(undefined);
  });

  it("accepts only strict, real YYYY-MM-DD dates from 1970-01-01 to 9999-12-31", () => {
    expect(dayNumber("2028-02-29")).to.be.a("number");
    expect(dayNumber(MIN_DATE)).to.equal(0);
    expect(dayNumber(MAX_DATE)).to.equal(MAX_DAY);
    for (const bad of [
      "2027-02-29",
      "2026-02-30",
      "2026-13-01",
      "2026-1-1",
      " 2026-01-01",
      "2026-01-01T00:00",
      "",
      "soon",
      "1969-12-31",
      "0000-01-01",
      "0099-12-31",
      "0100-03-01",
      "+010000-01-01",
      "10000-01-01",
    ]) {
      expect(dayNumber(bad), bad).to.equal(undefined);
    }
  });

  it("never reads a year below 100 as 19xx, as Date.UTC does", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 12 }), (year, month) => {
        const text = `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-01`;
        return dayNumber(text) === undefined && addDays(text, 1) === undefined;
      }),
    );
  });

  it("gives no date past 9999-12-31 or before 1970-01-01, whatever is added", () => {
    expect(addDays(MAX_DATE, 1)).to.equal(undefined);
    expect(addDays(MAX_DATE, 0)).to.equal(MAX_DATE);
    expect(addDays(MIN_DATE, -1)).to.equal(undefined);
    expect(dateOfDay(MAX_DAY + 1)).to.equal(undefined);
    expect(dateOfDay(-1)).to.equal(undefined);
    fc.assert(
      fc.property(anyDay, fc.integer({ min: -4_000_000, max: 4_000_000 }), (day, days) => {
        const result = addDays(dateOfDay(day) as string, days);
        const inRange = day + days >= 0 && day + days <= MAX_DAY;
        return inRange ? /^\d{4}-\d{2}-\d{2}$/.test(result as string) : result === undefined;
      }),
    );
  });

  it("day numbers and dates convert both ways over the whole range", () => {
    fc.assert(fc.property(anyDay, (day) => dayNumber(dateOfDay(day) as string) === day));
  });

  it("orders dates as their day numbers do, never as strings would past the range", () => {
    fc.assert(
      fc.property(anyDay, anyDay, (a, b) => {
        const [da, db] = [dateOfDay(a) as string, dateOfDay(b) as string];
        return Math.sign(a - b) === Math.sign((dayNumber(da) as number) - (dayNumber(db) as number));
      }),
    );
  });

  it("accepts any YYYY-MM-DD text only when it is a real date in range", () => {
    fc.assert(
      fc.property(anyDateShape, (text) => {
        const day = dayNumber(text);
        const year = Number(text.slice(0, 4));
        const real =
          !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) &&
          new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);
        return day === undefined ? !(real && year >= 1970) : real && year >= 1970 && dateOfDay(day) === text;
      }),
    );
  });

  it("adding then subtracting the same days returns the same date", () => {
    fc.assert(
      fc.property(anyDay, fc.integer({ min: -40_000, max: 40_000 }), (day, days) => {
        const date = dateOfDay(day) as string;
        const there = addDays(date, days);
        return there === undefined || addDays(there, -days) === date;
      }),
    );
  });
});
