// The operations half of the stack config: logging, metrics, alarms, dashboard. Pure, like
// parseConfig, which calls it with the same `bad` reporter so one error lists every problem.
import { namespaceProblem } from "../handler/settings";
import { parseJsonText, readFlag, readInteger, type Bad } from "./configReaders";

export interface OperationsConfig {
  /** Lambda application log level. */
  logLevel: string;
  /** CloudWatch namespace of the tagger's metrics; "" means the name prefix. */
  metricsNamespace: string;
  /** Deploy the alarms (and a topic unless alarmTopicArn is set). */
  alarms: boolean;
  /** An existing SNS topic for the alarms; "" creates one. */
  alarmTopicArn: string;
  /** Existing SNS topics by region, for stacks covering several regions; {} creates one per region. */
  alarmTopicArns: Record<string, string>;
  /** An email address to subscribe to the alarm topic; "" subscribes none. */
  alarmEmail: string;
  /** The Duration alarm fires above this. */
  alarmDurationSeconds: number;
  /** Hours without an invocation before the missed-run alarm fires; 0 derives it from a rate() schedule. */
  alarmMissingRunHours: number;
  /** Reserve a concurrency of 1 so two runs never overlap. */
  reservedConcurrency: boolean;
  /** Deploy the CloudWatch dashboard. */
  dashboard: boolean;
}

export const OPERATIONS_DEFAULTS: OperationsConfig = {
  logLevel: "INFO",
  metricsNamespace: "",
  alarms: true,
  alarmTopicArn: "",
  alarmTopicArns: {},
  alarmEmail: "",
  alarmDurationSeconds: 60,
  alarmMissingRunHours: 0,
  reservedConcurrency: false,
  dashboard: true,
};

export const LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/** CloudWatch evaluates an hourly alarm over at most 7 days. */
export const MAX_MISSING_RUN_HOURS = 168;
export const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const RATE = /^rate\((\d+) (minute|hour|day)s?\)$/;

/** The schedule's period in hours plus one, for rate() schedules; undefined for cron(). */
export function missingRunHoursFor(schedule: string): number | undefined {
  const rate = RATE.exec(schedule);
  if (!rate) {
    return undefined;
  }
  const hours = Number(rate[1]) * { minute: 1 / 60, hour: 1, day: 24 }[rate[2] as "minute" | "hour" | "day"];
  return Math.ceil(hours) + 1;
}

export function parseOperationsConfig(
  raw: Record<string, string | undefined>,
  bad: Bad,
  context: { schedule: string; scheduleValid: boolean; timeoutSeconds: number; namePrefix: string },
): OperationsConfig {
  const flag = (key: keyof OperationsConfig): boolean =>
    readFlag(raw, bad, key, OPERATIONS_DEFAULTS[key] as boolean);
  const integer = (key: keyof OperationsConfig, min: number, max: number, why = ""): number =>
    readInteger(raw, bad, key, OPERATIONS_DEFAULTS[key] as number, [min, max], why);

  const logLevel = (raw.logLevel ?? OPERATIONS_DEFAULTS.logLevel).toUpperCase();
  if (!LOG_LEVELS.includes(logLevel)) {
    bad("logLevel", raw.logLevel, `must be one of ${LOG_LEVELS.join(", ")}`);
  }

  const metricsNamespace = raw.metricsNamespace ?? OPERATIONS_DEFAULTS.metricsNamespace;
  // An empty namespace means namePrefix, whose characters are a subset of what namespaces allow.
  const namespaceError = metricsNamespace === "" ? undefined : namespaceProblem(metricsNamespace);
  if (namespaceError) {
    bad("metricsNamespace", raw.metricsNamespace, namespaceError);
  }

  const alarms = flag("alarms");
  const alarmTopicArn = raw.alarmTopicArn ?? "";
  if (alarmTopicArn !== "" && !TOPIC_ARN.test(alarmTopicArn)) {
    bad(
      "alarmTopicArn",
      alarmTopicArn,
      "must be an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>, or empty to create one",
    );
  }
  let alarmTopicArns: Record<string, string> = {};
  if (raw.alarmTopicArns !== undefined) {
    const parsed = parseJsonText(raw.alarmTopicArns);
    const value = parsed.ok ? parsed.value : undefined;
    const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
    const bad_ = isMap
      ? Object.entries(value).filter(([, arn]) => typeof arn !== "string" || !TOPIC_ARN.test(arn))
      : [];
    if (!isMap) {
      bad(
        "alarmTopicArns",
        raw.alarmTopicArns,
        'must be a JSON object of region to SNS topic ARN, e.g. {"eu-west-1":"arn:aws:sns:eu-west-1:<account>:<name>"}',
      );
    } else if (bad_.length > 0) {
      bad(
        "alarmTopicArns",
        raw.alarmTopicArns,
        `${bad_.map(([region]) => JSON.stringify(region)).join(", ")}: must map to an SNS topic ARN`,
      );
    } else {
      alarmTopicArns = value as Record<string, string>;
    }
  }
  const alarmEmail = raw.alarmEmail ?? "";
  if (alarmEmail !== "" && !EMAIL.test(alarmEmail)) {
    bad("alarmEmail", alarmEmail, "must be an email address, or empty for none");
  }

  const timeout = context.timeoutSeconds;
  const alarmDurationSeconds = integer(
    "alarmDurationSeconds",
    1,
    Math.max(1, timeout - 1),
    ` (below timeoutSeconds, ${timeout}, or it could never fire)`,
  );

  let alarmMissingRunHours = integer(
    "alarmMissingRunHours",
    0,
    MAX_MISSING_RUN_HOURS,
    "; 0 derives it from a rate() schedule",
  );
  // A bad schedule is reported once, under its own key.
  if (alarms && alarmMissingRunHours === 0 && context.scheduleValid) {
    const derived = missingRunHoursFor(context.schedule);
    if (derived === undefined) {
      bad(
        "alarmMissingRunHours",
        raw.alarmMissingRunHours,
        `must be set for a cron() schedule (${context.schedule}): the hours after which no run means trouble, 1 to ${MAX_MISSING_RUN_HOURS}`,
      );
    } else if (derived > MAX_MISSING_RUN_HOURS) {
      bad(
        "alarmMissingRunHours",
        raw.alarmMissingRunHours,
        `the schedule ${context.schedule} leaves more than ${MAX_MISSING_RUN_HOURS} hours between runs, longer than a CloudWatch alarm can watch; set alarms to false or run more often`,
      );
    } else {
      alarmMissingRunHours = derived;
    }
  }

  return {
    logLevel,
    metricsNamespace,
    alarms,
    alarmTopicArn,
    alarmTopicArns,
    alarmEmail,
    alarmDurationSeconds,
    alarmMissingRunHours,
    reservedConcurrency: flag("reservedConcurrency"),
    dashboard: flag("dashboard"),
  };
}
