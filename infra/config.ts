// The stack's configuration: one typed object, parsed from raw config strings by a pure function
// (tests call it with plain objects) and loaded from pulumi.Config by a thin wrapper.
import * as pulumi from "@pulumi/pulumi";
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, extraTagProblems } from "../handler/tagRules";
import { parseJsonText, readFlag, readInteger } from "./configReaders";
import {
  OPERATIONS_DEFAULTS,
  TOPIC_ARN,
  parseOperationsConfig,
  type OperationsConfig,
} from "./operationsConfig";
import {
  ORGANIZATION_DEFAULTS,
  parseOrganizationConfig,
  type OrganizationConfig,
} from "./organizationConfig";
import { regionProblem } from "./regions";
import { scheduleProblem } from "./schedule";
import { SCOPE_DEFAULTS, parseScopeConfig, type ScopeConfig } from "./scopeConfig";

export interface StackConfig extends OperationsConfig, ScopeConfig, OrganizationConfig {
  /** The AWS region the stack deploys to and the tagger works in (`aws:region`; with `regions`, each of them). */
  region: string;
  /** The stack's `aws:region`, served by the default provider; undefined when only `regions` is set. */
  awsRegion: string | undefined;
  /** Every region the stack covers: `regions`, or `aws:region` alone. */
  targetRegions: string[];
  /** Days from first tagging to DeleteOn. */
  retentionDays: number;
  /** EventBridge schedule expression. */
  schedule: string;
  /** Days CloudWatch Logs keeps the function's logs. */
  logRetentionDays: number;
  /** Lambda memory, MB. */
  memorySize: number;
  /** Lambda timeout, seconds. */
  timeoutSeconds: number;
  /** Tags added where their key is absent; never overwritten. */
  extraTags: Record<string, string>;
  /** Plan and report, write nothing. */
  dryRun: boolean;
  /** Prefix of every physical name, so two stacks can share an account and region. */
  namePrefix: string;
}

/** Defaults for the project's keys; Pulumi.yaml declares the same (a test keeps them in step). */
export const DEFAULTS = {
  retentionDays: 90,
  // Hourly: expiry keeps up with 11,000 deletions a day within EC2's bucket for deletions, and a
  // sweep's pass that needs several runs finishes in hours, not days. A run with nothing to do
  // costs a few calls (AMIs, the due query).
  schedule: "rate(1 hour)",
  logRetentionDays: 14,
  // Chosen by the benchmark (docs/development.md, "Why 1024 MB"): Lambda's CPU scales with memory
  // (one vCPU at 1,769 MB), and the pipeline is CPU-bound below that. 512 MB would do at 110,000
  // resources, but at 1,050,000 a daily pass and hourly expiry need 1024 MB's CPU (at 512 MB half
  // a million backups went unlisted in a sweep period). Memory is not what sets it: the function
  // needs 386 MB (peak RSS 321 MB at 110,000 resources under Node.js 22 with the SDK layer, + 20%).
  memorySize: 1024,
  timeoutSeconds: 300,
  extraTags: {} as Record<string, string>,
  dryRun: false,
  namePrefix: "TagEC2Backups",
  ...OPERATIONS_DEFAULTS,
  ...SCOPE_DEFAULTS,
  ...ORGANIZATION_DEFAULTS,
};

export type ProjectKey = keyof typeof DEFAULTS;
/** The least timeout a run can honour: one whole attempt (5 s) plus the safety margin (at least 1 s), with room to answer. */
export const MIN_TIMEOUT_SECONDS = 10;
export const PROJECT_KEYS = Object.keys(DEFAULTS) as ProjectKey[];

/** The retention periods CloudWatch Logs accepts (0, "never expire", is deliberately not offered). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Suffixes appended to namePrefix; the longest bounds the prefix (IAM role and rule names: 64 characters). */
export const NAME_SUFFIXES = { role: "LambdaRole-", rule: "-DailyEC2BackupTagger" };
const MAX_NAME_LENGTH = 64;
const NAME_PREFIX = /^[A-Za-z0-9_-]+$/;

/** Raw values as Pulumi hands them over: strings, objects as JSON text. Keys: `aws:region` and project keys. */
export type RawConfig = Record<string, string | undefined>;

export type ParseResult = { ok: true; config: StackConfig } | { ok: false; errors: string[] };

export function parseConfig(raw: RawConfig, project = "ec2-backup-retention"): ParseResult {
  const errors: string[] = [];
  const bad = (key: string, value: string | undefined, allowed: string) =>
    errors.push(`${key.includes(":") ? key : `${project}:${key}`} = ${JSON.stringify(value)}: ${allowed}`);

  const integer = (key: ProjectKey, min: number, max: number): number =>
    readInteger(raw, bad, key, DEFAULTS[key] as number, [min, max]);

  const scope = parseScopeConfig(raw, bad);
  // With `regions`, each listed region gets its own provider; aws:region is then optional.
  const region = raw["aws:region"] ?? (scope.regions.length > 0 ? scope.regions[0] : undefined);
  if (region === undefined) {
    bad(
      "aws:region",
      region,
      "must be an AWS region such as us-east-1 (pulumi config set aws:region <region>)",
    );
  } else if (raw["aws:region"] !== undefined && regionProblem(region)) {
    bad("aws:region", region, `${regionProblem(region)} (pulumi config set aws:region <region>)`);
  }

  const retentionDays = integer("retentionDays", MIN_RETENTION_DAYS, MAX_RETENTION_DAYS);
  const memorySize = integer("memorySize", 128, 10240);
  // Below 10 s a run could not finish one 5 s attempt after keeping its 1 s safety margin.
  const timeoutSeconds = readInteger(
    raw,
    bad,
    "timeoutSeconds",
    DEFAULTS.timeoutSeconds,
    [MIN_TIMEOUT_SECONDS, 900],
    "; below 10 no call could finish an attempt (5 s) and keep the safety margin (1 s)",
  );

  const logRetentionText = raw.logRetentionDays;
  const logRetentionDays =
    logRetentionText === undefined ? DEFAULTS.logRetentionDays : Number(logRetentionText);
  if (
    logRetentionText !== undefined &&
    !(/^\d+$/.test(logRetentionText) && LOG_RETENTION_DAYS.includes(logRetentionDays))
  ) {
    bad("logRetentionDays", logRetentionText, `must be one of ${LOG_RETENTION_DAYS.join(", ")}`);
  }

  const schedule = raw.schedule ?? DEFAULTS.schedule;
  const problem = scheduleProblem(schedule);
  if (problem) {
    bad("schedule", schedule, problem);
  }

  let extraTags = DEFAULTS.extraTags;
  if (raw.extraTags !== undefined) {
    const parsed = parseJsonText(raw.extraTags);
    const problems = parsed.ok
      ? extraTagProblems(parsed.value)
      : ["must be a JSON object of tag key to string value"];
    if (problems.length > 0) {
      bad("extraTags", raw.extraTags, problems.join(", "));
    } else {
      extraTags = (parsed as { value: Record<string, string> }).value;
    }
  }

  const dryRun = readFlag(raw, bad, "dryRun", DEFAULTS.dryRun);

  const namePrefix = raw.namePrefix ?? DEFAULTS.namePrefix;
  const longestRegion = [region ?? "", ...scope.regions].reduce((a, b) => (b.length > a.length ? b : a), "");
  const longestSuffix = Math.max(NAME_SUFFIXES.role.length + longestRegion.length, NAME_SUFFIXES.rule.length);
  const maxPrefix = MAX_NAME_LENGTH - longestSuffix;
  if (!NAME_PREFIX.test(namePrefix) || namePrefix.length > maxPrefix) {
    bad(
      "namePrefix",
      raw.namePrefix,
      `must be 1 to ${maxPrefix} letters, digits, - or _, so that the role name ` +
        `(<prefix>${NAME_SUFFIXES.role}${longestRegion || "<region>"}) and the rule name (<prefix>${NAME_SUFFIXES.rule}) ` +
        `stay within ${MAX_NAME_LENGTH} characters`,
    );
  }

  const operations = parseOperationsConfig(raw, bad, {
    schedule,
    scheduleValid: problem === undefined,
    timeoutSeconds,
    namePrefix,
  });

  const targetRegions = scope.regions.length > 0 ? scope.regions : region === undefined ? [] : [region];
  const organization = parseOrganizationConfig(raw, bad, {
    awsRegion: raw["aws:region"],
    namePrefix,
    reservedConcurrency: operations.reservedConcurrency,
    expire: scope.expire,
    recycleBinDays: scope.recycleBinDays,
  });
  // In organization mode the alarms are the hub's, in the stack's own region only.
  const alarmRegions = organization.organization && region !== undefined ? [region] : targetRegions;
  alarmTopicProblems(operations, alarmRegions).forEach(([key, value, why]) => bad(key, value, why));

  for (const key of Object.keys(raw)) {
    if (!key.includes(":") && !(PROJECT_KEYS as string[]).includes(key)) {
      bad(key, raw[key], `unknown key; the known keys are ${PROJECT_KEYS.join(", ")}`);
    }
  }

  if (errors.length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    config: {
      region: region as string,
      awsRegion: raw["aws:region"],
      targetRegions,
      retentionDays,
      schedule,
      logRetentionDays,
      memorySize,
      timeoutSeconds,
      extraTags,
      dryRun,
      namePrefix,
      ...operations,
      ...scope,
      ...organization,
    },
  };
}

/** The region of an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>). */
const topicRegion = (arn: string) => arn.split(":")[3];

/**
 * CloudWatch alarms notify topics in their own region only: a topic per region, each in its
 * region; one `alarmTopicArn` only for a stack of one region, and in that region.
 */
function alarmTopicProblems(
  operations: OperationsConfig,
  regions: string[],
): [key: string, value: string, why: string][] {
  const problems: [string, string, string][] = [];
  const { alarmTopicArn, alarmTopicArns } = operations;
  if (alarmTopicArn !== "" && Object.keys(alarmTopicArns).length > 0) {
    problems.push([
      "alarmTopicArn",
      alarmTopicArn,
      `alarmTopicArns is set too (${JSON.stringify(alarmTopicArns)}): set alarmTopicArn or alarmTopicArns, not both`,
    ]);
  } else if (alarmTopicArn !== "" && regions.length > 1) {
    problems.push([
      "alarmTopicArn",
      alarmTopicArn,
      `one topic cannot serve the alarms of ${regions.join(", ")}: CloudWatch alarms notify topics in their own region only; set alarmTopicArns to a JSON map of region to topic ARN instead`,
    ]);
  } else if (
    TOPIC_ARN.test(alarmTopicArn) &&
    regions.length === 1 &&
    topicRegion(alarmTopicArn) !== regions[0]
  ) {
    problems.push([
      "alarmTopicArn",
      alarmTopicArn,
      `is in ${topicRegion(alarmTopicArn)}, but the alarms are in ${regions[0]}: CloudWatch alarms notify topics in their own region only`,
    ]);
  }
  for (const [region, arn] of Object.entries(alarmTopicArns)) {
    if (!regions.includes(region)) {
      problems.push([
        "alarmTopicArns",
        JSON.stringify(alarmTopicArns),
        `${region} is not one of the stack's regions (${regions.join(", ")})`,
      ]);
    } else if (topicRegion(arn) !== region) {
      problems.push([
        "alarmTopicArns",
        JSON.stringify(alarmTopicArns),
        `the topic for ${region} is in ${topicRegion(arn)}: CloudWatch alarms notify topics in their own region only`,
      ]);
    }
  }
  return problems;
}

/** The message of the one error bad config stops the program with. */
export function configErrorMessage(errors: string[]): string {
  return `Invalid stack configuration (${errors.length} problem${errors.length === 1 ? "" : "s"}):\n${errors
    .map((e) => `  - ${e}`)
    .join("\n")}`;
}

/**
 * Reads the stack's config. Bad config throws one RunError listing every problem, before any
 * resource is registered.
 */
export function loadConfig(): StackConfig {
  const project = pulumi.getProject();
  const raw: RawConfig = { "aws:region": new pulumi.Config("aws").get("region") };
  const prefix = `${project}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) {
      raw[key.slice(prefix.length)] = value;
    }
  }
  const result = parseConfig(raw, project);
  if (!result.ok) {
    throw new pulumi.RunError(configErrorMessage(result.errors));
  }
  return result.config;
}
