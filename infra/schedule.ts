// EventBridge schedule expressions, checked before deploy so a typo fails `pulumi preview`
// instead of the rule's creation halfway through an update.
import cronValidate from "cron-validate";

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;

/** Why an expression is not a valid EventBridge schedule, or undefined when it is. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2];
    if (!Number.isSafeInteger(value) || value < 1) {
      return "rate value must be a positive integer";
    }
    const plural = unit.endsWith("s");
    if (value === 1 && plural) {
      return `rate(1 ${unit}) must use the singular: rate(1 ${unit.slice(0, -1)})`;
    }
    if (value > 1 && !plural) {
      return `rate(${value} ${unit}) must use the plural: rate(${value} ${unit}s)`;
    }
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    // The "aws-cloud-watch" preset is EventBridge's dialect: six fields with a year, and a `?` in
    // exactly one of day-of-month and day-of-week.
    const result = cronValidate(cron[1], { preset: "aws-cloud-watch" });
    if (result.isValid()) {
      return undefined;
    }
    const errors = result.getError().map((e) => e.replace(/ \(Input cron: .*\)$/, ""));
    return `invalid cron: ${[...new Set(errors)].join("; ")}`;
  }
  return "must be rate(<n> <unit>) or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)";
}
