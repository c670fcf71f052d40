// The Lambda's environment, parsed once at cold start. Pulumi sets these from stack config; a
// hand-edited value that is wrong fails with a message naming the variable.
import { closest, editDistance } from "./closest";
import { tagMatchProblems, type TagMatch } from "./selection";
import type { DeleteOnFrom } from "./tagPolicy";
import { MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, extraTagProblems, isRetentionDays } from "./tagRules";

export interface HandlerSettings {
  retentionDays: number;
  extraTags: Record<string, string>;
  dryRun: boolean;
  /** CloudWatch namespace of the run's metrics. */
  metricsNamespace: string;
  /** Only resources matching every entry are managed; {} manages all. */
  includeTags: TagMatch;
  /** Resources matching any entry are left alone. */
  excludeTags: TagMatch;
  manageAmis: boolean;
  manageSnapshots: boolean;
  deleteOnFrom: DeleteOnFrom;
  /** Deregister and delete backups whose DeleteOn has passed. */
  expire: boolean;
  /** Days past DeleteOn before deleting. */
  expireGraceDays: number;
  /** Deletions per run at most. */
  maxDeletionsPerRun: number;
  /** Days ahead a run warns of backups falling due; 0 for none. */
  expireNoticeDays: number;
  /** Record our tags found without proof as ours: an operator's trust decision. */
  adoptUnprovenTags: boolean;
  /** Every snapshot is visited at least once in this many hours (the sweep's period). */
  sweepHours: number;
  /** The ledger's DynamoDB table. */
  ledgerTable: string;
  /** Where the deletion notice goes; "" for nowhere. */
  noticeTopicArn: string;
}

export const ENV = {
  retentionDays: "RETENTION_DAYS",
  extraTags: "EXTRA_TAGS",
  dryRun: "DRY_RUN",
  metricsNamespace: "METRICS_NAMESPACE",
  includeTags: "INCLUDE_TAGS",
  excludeTags: "EXCLUDE_TAGS",
  manageAmis: "MANAGE_AMIS",
  manageSnapshots: "MANAGE_SNAPSHOTS",
  deleteOnFrom: "DELETE_ON_FROM",
  expire: "EXPIRE",
  expireGraceDays: "EXPIRE_GRACE_DAYS",
  maxDeletionsPerRun: "MAX_DELETIONS_PER_RUN",
  expireNoticeDays: "EXPIRE_NOTICE_DAYS",
  adoptUnprovenTags: "ADOPT_UNPROVEN_TAGS",
  sweepHours: "SWEEP_HOURS",
  ledgerTable: "LEDGER_TABLE",
  noticeTopicArn: "NOTICE_TOPIC_ARN",
} as const;

export const EXPIRY_LIMITS = {
  graceDays: [0, 365],
  maxDeletions: [1, 20_000],
  noticeDays: [0, 365],
} as const;

/** DynamoDB table names: 3 to 255 letters, digits, _ - . */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** The sweep's period: from 2 hours (passes then start every hour) to 30 days. */
export const SWEEP_HOURS = [2, 720] as const;
export const DEFAULT_SWEEP_HOURS = 24;
export const DEFAULT_MAX_DELETIONS = 1000;

export const DELETE_ON_FROM: readonly DeleteOnFrom[] = ["first-seen", "creation"];

/** CloudWatch namespaces: 1 to 255 of these characters, and not AWS's own "AWS/" prefix. */
const NAMESPACE = /^[A-Za-z0-9.\-_/#:]{1,255}$/;

export function namespaceProblem(namespace: string): string | undefined {
  if (!NAMESPACE.test(namespace)) {
    return "must be 1 to 255 letters, digits or . - _ / # :";
  }
  return namespace.startsWith("AWS/") ? 'must not start with "AWS/" (reserved by AWS)' : undefined;
}

// Set by Lambda, Node.js or the operating system, never ours: not checked for typos.
const FOREIGN_PREFIXES: readonly string[] = ["AWS_", "LAMBDA_", "_", "NODE_", "LD_", "NPM_"];
const FOREIGN_NAMES: readonly string[] = [
  "PATH",
  "LANG",
  "TZ",
  "HOME",
  "PWD",
  "SHLVL",
  "USER",
  "HOSTNAME",
  "TERM",
];

/**
 * A variable that is not ours but looks it (DRYRUN for DRY_RUN, RETENTON_DAYS, NOTICE_DAYS): a
 * hand edit that would otherwise be silently ignored while the run does something else.
 */
export function lookalikeProblems(env: Record<string, string | undefined>): string[] {
  const ours: string[] = Object.values(ENV);
  const squash = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]/g, "");
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (
      ours.includes(name) ||
      FOREIGN_NAMES.includes(name) ||
      FOREIGN_PREFIXES.some((p) => name.startsWith(p))
    ) {
      continue;
    }
    const a = squash(name);
    const containing =
      a.length < 5
        ? undefined
        : (ours.find((known) => squash(known).includes(a)) ??
          ours.find((known) => a.includes(squash(known))));
    if (containing || ours.some((known) => editDistance(a, squash(known)) <= 2)) {
      const suggestion = containing ?? closest(name, ours, 1)[0];
      problems.push(
        `${name}=${JSON.stringify(env[name])}: not a setting of this function; did you mean ${suggestion}?`,
      );
    }
  }
  return problems;
}

/** Thrown for a bad environment; the message names every bad variable, its value and what is allowed. */
export function environmentError(problems: string[]): Error {
  const error = new Error(`Invalid environment: ${problems.join("; ")}`);
  error.name = "EnvironmentError";
  return error;
}

export function parseEnvironment(env: Record<string, string | undefined>): HandlerSettings {
  const problems: string[] = [];
  const show = (name: string) => `${name}=${JSON.stringify(env[name])}`;

  const rawDays = env[ENV.retentionDays];
  const retentionDays = Number(rawDays);
  if (rawDays === undefined || !/^\d+$/.test(rawDays) || !isRetentionDays(retentionDays)) {
    problems.push(
      `${show(ENV.retentionDays)}: must be an integer from ${MIN_RETENTION_DAYS} to ${MAX_RETENTION_DAYS}`,
    );
  }

  let extraTags: Record<string, string> = {};
  const rawTags = env[ENV.extraTags];
  if (rawTags !== undefined && rawTags !== "") {
    try {
      const parsed: unknown = JSON.parse(rawTags);
      const tagProblems = extraTagProblems(parsed);
      if (tagProblems.length > 0) {
        problems.push(`${show(ENV.extraTags)}: ${tagProblems.join(", ")}`);
      } else {
        extraTags = parsed as Record<string, string>;
      }
    } catch {
      problems.push(`${show(ENV.extraTags)}: must be a JSON object of tag key to string value`);
    }
  }

  const rawDryRun = env[ENV.dryRun] ?? "false";
  if (rawDryRun !== "true" && rawDryRun !== "false") {
    problems.push(`${show(ENV.dryRun)}: must be "true" or "false"`);
  }

  const metricsNamespace = env[ENV.metricsNamespace] ?? "";
  const badNamespace = namespaceProblem(metricsNamespace);
  if (badNamespace) {
    problems.push(`${show(ENV.metricsNamespace)}: ${badNamespace}`);
  }

  const tagMatch = (name: string): TagMatch => {
    const text = env[name];
    if (text === undefined || text === "") {
      return {};
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const found =
      parsed === undefined ? ["must be a JSON object of tag key to value"] : tagMatchProblems(parsed);
    if (found.length > 0) {
      problems.push(`${show(name)}: ${found.join(", ")}`);
      return {};
    }
    return parsed as TagMatch;
  };
  const flag = (name: string, fallback = "true"): boolean => {
    const text = env[name] ?? fallback;
    if (text !== "true" && text !== "false") {
      problems.push(`${show(name)}: must be "true" or "false"`);
    }
    return text !== "false";
  };
  const includeTags = tagMatch(ENV.includeTags);
  const excludeTags = tagMatch(ENV.excludeTags);
  const manageAmis = flag(ENV.manageAmis);
  const manageSnapshots = flag(ENV.manageSnapshots);
  if (!manageAmis && !manageSnapshots) {
    problems.push(
      `${show(ENV.manageAmis)} and ${show(ENV.manageSnapshots)}: at least one kind must be managed, or the run has nothing to do`,
    );
  }
  const deleteOnFrom = (env[ENV.deleteOnFrom] ?? "first-seen") as DeleteOnFrom;
  if (!DELETE_ON_FROM.includes(deleteOnFrom)) {
    problems.push(`${show(ENV.deleteOnFrom)}: must be one of ${DELETE_ON_FROM.join(", ")}`);
  }

  const expire = flag(ENV.expire, "false");
  const bounded = (name: string, fallback: string, [min, max]: readonly [number, number]): number => {
    const text = env[name] ?? fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) {
      problems.push(`${show(name)}: must be an integer from ${min} to ${max}`);
    }
    return n;
  };
  const expireGraceDays = bounded(ENV.expireGraceDays, "1", EXPIRY_LIMITS.graceDays);
  const maxDeletionsPerRun = bounded(
    ENV.maxDeletionsPerRun,
    String(DEFAULT_MAX_DELETIONS),
    EXPIRY_LIMITS.maxDeletions,
  );
  const sweepHours = bounded(ENV.sweepHours, String(DEFAULT_SWEEP_HOURS), SWEEP_HOURS);
  const expireNoticeDays = bounded(ENV.expireNoticeDays, "7", EXPIRY_LIMITS.noticeDays);
  const adoptUnprovenTags = flag(ENV.adoptUnprovenTags, "false");
  const ledgerTable = env[ENV.ledgerTable] ?? "";
  if (!TABLE_NAME.test(ledgerTable)) {
    problems.push(
      `${show(ENV.ledgerTable)}: must name the ledger's DynamoDB table (3 to 255 letters, digits, _ - .)`,
    );
  }
  const noticeTopicArn = env[ENV.noticeTopicArn] ?? "";
  if (noticeTopicArn !== "" && !SNS_TOPIC_ARN.test(noticeTopicArn)) {
    problems.push(`${show(ENV.noticeTopicArn)}: must be an SNS topic ARN, or empty for no notices`);
  }

  problems.push(...lookalikeProblems(env));
  if (problems.length > 0) {
    throw environmentError(problems);
  }
  return {
    expire,
    expireGraceDays,
    maxDeletionsPerRun,
    expireNoticeDays,
    adoptUnprovenTags,
    sweepHours,
    ledgerTable,
    noticeTopicArn,
    retentionDays,
    extraTags,
    dryRun: rawDryRun === "true",
    metricsNamespace,
    includeTags,
    excludeTags,
    manageAmis,
    manageSnapshots,
    deleteOnFrom,
  };
}
