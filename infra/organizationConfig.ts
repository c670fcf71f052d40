// The organization half of the stack config: off by default, and then none of its keys may be set.
// Pure, like parseConfig, which calls it with the same `bad` reporter so one error lists every problem.
import { ACCOUNT_ID, ROLE_NAME, ROOT_ID, UNIT_ID } from "../handler/organizationTargets";
import { parseJsonText, readFlag, readInteger, type Bad } from "./configReaders";

export const CALL_AS = ["SELF", "DELEGATED_ADMIN"] as const;
export type CallAs = (typeof CALL_AS)[number];

export interface OrganizationConfig {
  /** One hub stack for the whole organization instead of this account's taggers. */
  organization: boolean;
  /** Roots (r-...) and OUs (ou-...) whose accounts, at any depth, are covered and get the member role. */
  organizationUnits: string[];
  /** When not empty, only these accounts (of those under organizationUnits) are covered. */
  includeAccounts: string[];
  /** Accounts never covered. */
  excludeAccounts: string[];
  /** OUs below organizationUnits whose accounts, at any depth, are never covered. */
  excludeUnits: string[];
  /** The role the StackSet puts in every member account, and the worker assumes. */
  memberRoleName: string;
  /** Workers running at once: the SQS event source mapping's maximum concurrency. */
  workerConcurrency: number;
  /** The deploying identity: the management account (SELF) or a delegated administrator. */
  callAs: CallAs;
}

export const ORGANIZATION_DEFAULTS: OrganizationConfig = {
  organization: false,
  organizationUnits: [],
  includeAccounts: [],
  excludeAccounts: [],
  excludeUnits: [],
  memberRoleName: "TagEC2BackupsRole",
  workerConcurrency: 5,
  callAs: "SELF",
};

export const ORGANIZATION_KEYS = Object.keys(ORGANIZATION_DEFAULTS) as (keyof OrganizationConfig)[];

/**
 * An SQS event source's maximum concurrency is 2 to 1000 (Lambda API reference, ScalingConfig;
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html).
 */
export const WORKER_CONCURRENCY = [2, 1000] as const;

/** Organization mode's names that hold the prefix and the region; IAM role names: 64 characters. */
export const ORGANIZATION_NAME_SUFFIXES = { dispatcherRole: "OrgDispatcher-", workerRole: "OrgWorker-" };
/** StackSet names: a letter, then letters, digits and hyphens (CloudFormation API reference, CreateStackSet). */
const STACK_SET_PREFIX = /^[A-Za-z][A-Za-z0-9-]*$/;

export interface OrganizationContext {
  /** The stack's own aws:region: the hub's region. */
  awsRegion: string | undefined;
  namePrefix: string;
  reservedConcurrency: boolean;
  expire: boolean;
  recycleBinDays: number;
}

export function parseOrganizationConfig(
  raw: Record<string, string | undefined>,
  report: Bad,
  context: OrganizationContext,
): OrganizationConfig {
  // Each key is refused once: a bad value is not also "set while organization is off".
  const reported: string[] = [];
  const bad: Bad = (key, value, allowed) => {
    reported.push(key);
    report(key, value, allowed);
  };
  const organization = readFlag(raw, bad, "organization", ORGANIZATION_DEFAULTS.organization);

  const list = (
    key: "organizationUnits" | "includeAccounts" | "excludeAccounts" | "excludeUnits",
    valid: (id: string) => boolean,
    what: string,
  ): string[] => {
    const text = raw[key];
    if (text === undefined) {
      return [];
    }
    const parsed = parseJsonText(text);
    const value = parsed.ok ? parsed.value : undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      bad(key, text, `must be a JSON list of ${what}`);
      return [];
    }
    const wrong = (value as string[]).filter((v) => !valid(v));
    if (wrong.length > 0) {
      bad(key, text, `${wrong.map((v) => JSON.stringify(v)).join(", ")}: must be ${what}`);
    }
    const duplicates = (value as string[]).filter((v, i) => value.indexOf(v) !== i);
    if (duplicates.length > 0) {
      bad(key, text, `lists ${[...new Set(duplicates)].join(", ")} more than once`);
    }
    return value as string[];
  };
  const unitIds = "root IDs (r-xxxx) or OU IDs (ou-xxxx-xxxxxxxx)";
  const organizationUnits = list("organizationUnits", (v) => ROOT_ID.test(v) || UNIT_ID.test(v), unitIds);
  const accountIds = "12-digit account IDs";
  const includeAccounts = list("includeAccounts", (v) => ACCOUNT_ID.test(v), accountIds);
  const excludeAccounts = list("excludeAccounts", (v) => ACCOUNT_ID.test(v), accountIds);
  const excludeUnits = list(
    "excludeUnits",
    (v) => UNIT_ID.test(v),
    "OU IDs (ou-xxxx-xxxxxxxx); a root cannot be excluded",
  );

  const memberRoleName = raw.memberRoleName ?? ORGANIZATION_DEFAULTS.memberRoleName;
  if (!ROLE_NAME.test(memberRoleName)) {
    bad(
      "memberRoleName",
      raw.memberRoleName,
      "must be an IAM role name: 1 to 64 letters, digits, + = , . @ _ -",
    );
  }
  const workerConcurrency = readInteger(
    raw,
    bad,
    "workerConcurrency",
    ORGANIZATION_DEFAULTS.workerConcurrency,
    WORKER_CONCURRENCY,
    " (the SQS event source mapping's maximum concurrency)",
  );
  const callAs = (raw.callAs ?? ORGANIZATION_DEFAULTS.callAs) as CallAs;
  if (!CALL_AS.includes(callAs)) {
    bad(
      "callAs",
      raw.callAs,
      "must be SELF (the stack runs in the management account) or DELEGATED_ADMIN (in a delegated administrator for StackSets)",
    );
  }

  const parsed: OrganizationConfig = {
    organization,
    organizationUnits,
    includeAccounts,
    excludeAccounts,
    excludeUnits,
    memberRoleName,
    workerConcurrency,
    callAs,
  };
  if (!organization) {
    // Off, organization mode's keys would be silently ignored: a value other than the default is
    // refused. (The CLI hands the program Pulumi.yaml's defaults too, so presence proves nothing.)
    for (const key of ORGANIZATION_KEYS.filter((k) => !reported.includes(k))) {
      if (JSON.stringify(parsed[key]) !== JSON.stringify(ORGANIZATION_DEFAULTS[key])) {
        bad(key, raw[key], "applies only with organization set to true");
      }
    }
  } else {
    if (organizationUnits.length === 0 && raw.organizationUnits !== undefined) {
      bad("organizationUnits", raw.organizationUnits, `must list at least one of ${unitIds}`);
    } else if (organizationUnits.length === 0) {
      bad(
        "organizationUnits",
        raw.organizationUnits,
        `must be set with organization: a JSON list of ${unitIds}`,
      );
    }
    const both = includeAccounts.filter((id) => excludeAccounts.includes(id));
    if (both.length > 0) {
      bad("excludeAccounts", raw.excludeAccounts, `${both.join(", ")} also listed in includeAccounts`);
    }
    const excludedUnits = excludeUnits.filter((id) => organizationUnits.includes(id));
    if (excludedUnits.length > 0) {
      bad("excludeUnits", raw.excludeUnits, `${excludedUnits.join(", ")} also listed in organizationUnits`);
    }
    organizationModeProblems(context).forEach(([key, value, why]) => bad(key, value, why));
  }
  return parsed;
}

/** Single-account settings organization mode cannot honour, refused rather than ignored. */
function organizationModeProblems(
  context: OrganizationContext,
): [key: string, value: string | undefined, why: string][] {
  const problems: [string, string | undefined, string][] = [];
  if (context.awsRegion === undefined) {
    problems.push([
      "aws:region",
      undefined,
      "organization mode needs aws:region: the hub's region (regions lists the regions covered in every account)",
    ]);
  }
  const region = context.awsRegion ?? "";
  const longest = Math.max(...Object.values(ORGANIZATION_NAME_SUFFIXES).map((s) => s.length));
  const maxPrefix = 64 - longest - region.length;
  if (!STACK_SET_PREFIX.test(context.namePrefix) || context.namePrefix.length > maxPrefix) {
    problems.push([
      "namePrefix",
      context.namePrefix,
      `in organization mode must start with a letter and hold only letters, digits and - (it names the StackSet), at most ${maxPrefix} characters so that <prefix>${ORGANIZATION_NAME_SUFFIXES.dispatcherRole}${region || "<region>"} fits in 64`,
    ]);
  }
  if (context.reservedConcurrency) {
    problems.push([
      "reservedConcurrency",
      "true",
      "does not apply in organization mode: workerConcurrency bounds the workers",
    ]);
  }
  if (context.expire && context.recycleBinDays > 0) {
    problems.push([
      "recycleBinDays",
      String(context.recycleBinDays),
      "organization mode deploys no Recycle Bin rules to member accounts yet: with expire, set recycleBinDays to 0 to accept deletions without that undo",
    ]);
  }
  return problems;
}
