import { expect } from "chai";
import { scheduleProblem } from "../infra/schedule";

describe("schedule expressions", () => {
  it("accepts EventBridge rate and cron expressions", () => {
    for (const ok of [
      "rate(1 day)",
      "rate(2 days)",
      "rate(12 hours)",
      "rate(1 minute)",
      "cron(0 2 * * ? *)",
      "cron(0 0 ? * SUN *)",
      "cron(15 10 ? * MON-FRI *)",
      "cron(0/30 * * * ? *)",
      "cron(0 2 L * ? *)",
      "cron(0 2 ? * 6#3 *)",
    ]) {
      expect(scheduleProblem(ok), ok).to.equal(undefined);
    }
  });

  it("insists on the singular for 1 and the plural above", () => {
    expect(scheduleProblem("rate(1 days)")).to.equal("rate(1 days) must use the singular: rate(1 day)");
    expect(scheduleProblem("rate(2 day)")).to.equal("rate(2 day) must use the plural: rate(2 days)");
  });

  it("refuses a zero rate and unknown units", () => {
    expect(scheduleProblem("rate(0 days)")).to.match(/positive integer/);
    expect(scheduleProblem("rate(1 week)")).to.match(/must be rate\(<n> <unit>\) or cron/);
  });

  it("refuses five-field cron, a missing or double `?`, and out-of-range fields", () => {
    expect(scheduleProblem("cron(0 2 * * ?)")).to.match(/Expected 6 values, but got 5/);
    expect(scheduleProblem("cron(0 2 * * * *)")).to.match(/daysOfMonth and daysOfWeek/);
    expect(scheduleProblem("cron(0 2 ? * ? *)")).to.match(/blank value/);
    expect(scheduleProblem("cron(0 25 * * ? *)")).to.match(/hours/);
  });

  it("refuses anything else", () => {
    expect(scheduleProblem("daily")).to.match(/must be rate/);
    expect(scheduleProblem("")).to.match(/must be rate/);
  });
});
