import { expect } from "chai";
import fc from "fast-check";
import { addDays, isoDateUtc, parseIsoDate } from "../handler/dates";

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
  });

  it("accepts only strict, real YYYY-MM-DD dates", () => {
    expect(parseIsoDate("2028-02-29")).to.be.a("number");
    for (const bad of [
      "2027-02-29",
      "2026-02-30",
      "2026-13-01",
      "2026-1-1",
      " 2026-01-01",
      "2026-01-01T00:00",
      "",
      "soon",
    ]) {
      expect(parseIsoDate(bad), bad).to.equal(undefined);
    }
  });

  it("refuses to do arithmetic on a malformed date", () => {
    expect(() => addDays("2026-02-30", 1)).to.throw(RangeError, /2026-02-30/);
  });

  it("adding then subtracting the same days returns the same date", () => {
    const dates = fc
      .date({ min: new Date("1970-01-01"), max: new Date("2200-01-01"), noInvalidDate: true })
      .map(isoDateUtc);
    fc.assert(
      fc.property(
        dates,
        fc.integer({ min: -40_000, max: 40_000 }),
        (date, days) => addDays(addDays(date, days), -days) === date,
      ),
    );
  });
});
