// The environment of organization mode's two functions, parsed once at cold start. The worker's
// tagger settings are the single-account function's own (settings.ts), parsed by the same code;
// the ORG_ variables are organization mode's, taken out before that parser sees the rest.
import { environmentError, namespaceProblem, parseEnvironment, type HandlerSettings } from "./settings";
import { ACCOUNT_ID, REGION_NAME, ROLE_NAME, ROOT_ID, UNIT_ID } from "./organizationTargets";

export const ORG_ENV = {
  units: "ORG_UNITS",
  includeAccounts: "ORG_INCLUDE_ACCOUNTS",
  excludeAccounts: "ORG_EXCLUDE_ACCOUNTS",
  excludeUnits: "ORG_EXCLUDE_UNITS",
  regions: "ORG_REGIONS",
  queueUrl: "ORG_TARGET_QUEUE_URL",
  memberRoleName: "ORG_MEMBER_ROLE_NAME",
  partition: "ORG_PARTITION",
} as const;

const ORG_PREFIX = "ORG_";
const METRICS_NAMESPACE = "METRICS_NAMESPACE";
const PARTITION = /^aws(-[a-z]+)*$/;
const QUEUE_URL = /^https?:\/\/\S+\/\d{12}\/[A-Za-z0-9_-]{1,80}$/;

export interface DispatcherSettings {
  units: string[];
  includeAccounts: string[];
  excludeAccounts: string[];
  excludeUnits: string[];
  regions: string[];
  queueUrl: string;
  metricsNamespace: string;
}

export interface WorkerSettings extends HandlerSettings {
  regions: string[];
  memberRoleName: string;
  partition: string;
}

type Env = Record<string, string | undefined>;

/** A JSON list of strings each matching `pattern`; problems are pushed, [] returned for bad text. */
function readList(
  env: Env,
  name: string,
  pattern: RegExp,
  what: string,
  problems: string[],
  required = false,
): string[] {
  const text = env[name];
  let value: unknown;
  try {
    value = JSON.parse(text ?? "[]");
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || !pattern.test(v))) {
    problems.push(`${name}=${JSON.stringify(text)}: must be a JSON list of ${what}`);
    return [];
  }
  if (required && value.length === 0) {
    problems.push(`${name}=${JSON.stringify(text)}: must list at least one ${what}`);
  }
  return value as string[];
}

/** Our own prefix, misspelt or unknown: a hand edit that would otherwise be ignored. */
function unknownOrgVariables(env: Env): string[] {
  const ours: string[] = Object.values(ORG_ENV);
  return Object.keys(env)
    .filter((name) => name.startsWith(ORG_PREFIX) && !ours.includes(name))
    .map(
      (name) =>
        `${name}=${JSON.stringify(env[name])}: not a setting of this function (known: ${ours.join(", ")})`,
    );
}

const UNIT = new RegExp(`${ROOT_ID.source}|${UNIT_ID.source}`);

export function parseDispatcherEnvironment(env: Env): DispatcherSettings {
  const problems: string[] = [];
  const units = readList(env, ORG_ENV.units, UNIT, "root or OU IDs (r-..., ou-...)", problems, true);
  const includeAccounts = readList(
    env,
    ORG_ENV.includeAccounts,
    ACCOUNT_ID,
    "12-digit account IDs",
    problems,
  );
  const excludeAccounts = readList(
    env,
    ORG_ENV.excludeAccounts,
    ACCOUNT_ID,
    "12-digit account IDs",
    problems,
  );
  const excludeUnits = readList(env, ORG_ENV.excludeUnits, UNIT_ID, "OU IDs (ou-...)", problems);
  const regions = readList(env, ORG_ENV.regions, REGION_NAME, "region names", problems, true);
  const queueUrl = env[ORG_ENV.queueUrl] ?? "";
  if (!QUEUE_URL.test(queueUrl)) {
    problems.push(`${ORG_ENV.queueUrl}=${JSON.stringify(env[ORG_ENV.queueUrl])}: must be an SQS queue URL`);
  }
  const metricsNamespace = env[METRICS_NAMESPACE] ?? "";
  const badNamespace = namespaceProblem(metricsNamespace);
  if (badNamespace) {
    problems.push(`${METRICS_NAMESPACE}=${JSON.stringify(env[METRICS_NAMESPACE])}: ${badNamespace}`);
  }
  problems.push(...unknownOrgVariables(env));
  if (problems.length > 0) {
    throw environmentError(problems);
  }
  return { units, includeAccounts, excludeAccounts, excludeUnits, regions, queueUrl, metricsNamespace };
}

export function parseWorkerEnvironment(env: Env): WorkerSettings {
  const problems: string[] = [];
  const regions = readList(env, ORG_ENV.regions, REGION_NAME, "region names", problems, true);
  const memberRoleName = env[ORG_ENV.memberRoleName] ?? "";
  if (!ROLE_NAME.test(memberRoleName)) {
    problems.push(
      `${ORG_ENV.memberRoleName}=${JSON.stringify(env[ORG_ENV.memberRoleName])}: must be an IAM role name (1 to 64 letters, digits, + = , . @ _ -)`,
    );
  }
  const partition = env[ORG_ENV.partition] ?? "";
  if (!PARTITION.test(partition)) {
    problems.push(
      `${ORG_ENV.partition}=${JSON.stringify(env[ORG_ENV.partition])}: must be an AWS partition (aws, aws-cn, aws-us-gov, ...)`,
    );
  }
  problems.push(...unknownOrgVariables(env));
  // The tagger's own variables, checked by its own parser (typos of them included).
  const ours: string[] = Object.values(ORG_ENV);
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !ours.includes(name)));
  let tagger: HandlerSettings | undefined;
  try {
    tagger = parseEnvironment(rest);
  } catch (error) {
    problems.push((error as Error).message.replace(/^Invalid environment: /, ""));
  }
  if (problems.length > 0 || tagger === undefined) {
    throw environmentError(problems);
  }
  return { ...tagger, regions, memberRoleName, partition };
}
