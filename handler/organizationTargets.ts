// Organization mode's targets, pure: the organization's tree walked from the configured units
// through ports the dispatcher supplies, the (account, region) pairs a sweep covers, and the one
// SQS message per pair the worker reads back. Shared by the stack's config checks and the Lambdas.

/** A 12-digit AWS account ID. */
export const ACCOUNT_ID = /^\d{12}$/;
/** An organization root ID (Organizations API reference, ListAccountsForParent ParentId). */
export const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
/** An organizational unit ID: "ou-", the root's 4 to 32 characters, "-", 8 to 32 more. */
export const UNIT_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
/** IAM role names: 1 to 64 of letters, digits and + = , . @ _ - (IAM User Guide, IAM quotas). */
export const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
/** Region names as AWS writes them: us-east-1, us-gov-west-1, eu-central-2. */
export const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** One (account, region) a sweep covers. */
export interface Target {
  account: string;
  region: string;
}

/**
 * The body of one SQS message. Continuation needs nothing here: the target's sweep keeps its place
 * in the hub's ledger under the target's scope, and the next dispatch resumes it.
 */
export interface TargetMessage extends Target {
  /** A manual run's dryRun, forwarded from the dispatcher's payload; absent for scheduled sweeps. */
  dryRun?: boolean;
}

export interface OrgAccount {
  id: string;
  /** Account State (ACTIVE, SUSPENDED, PENDING_CLOSURE, ...), or the retiring Status when State is absent. */
  state: string;
  /** The root or OU the account sits in. */
  parentId: string;
}

/** What the walk reads from AWS Organizations; each call returns every page. */
export interface OrgTreePorts {
  accountsIn(parentId: string): Promise<{ id: string; state: string }[]>;
  unitsIn(parentId: string): Promise<string[]>;
}

export interface OrgTree {
  accounts: OrgAccount[];
  /** Roots and OUs listed. */
  unitsVisited: number;
  /** Excluded OUs found below the configured units (their whole subtree is left out). */
  unitsExcluded: string[];
}

/**
 * Every account under the configured roots and OUs, at any depth, except below an excluded OU.
 * Each unit is visited once and each account listed once, however the configured units overlap
 * (a root and an OU inside it, say).
 */
export async function walkOrganization(
  ports: OrgTreePorts,
  units: readonly string[],
  excludeUnits: readonly string[],
): Promise<OrgTree> {
  const visited = new Set<string>();
  const seenAccounts = new Set<string>();
  const accounts: OrgAccount[] = [];
  const unitsExcluded: string[] = [];
  const pending = units.filter((unit) => !excludeUnits.includes(unit));
  while (pending.length > 0) {
    const parentId = pending.shift() as string;
    if (visited.has(parentId)) {
      continue;
    }
    visited.add(parentId);
    for (const account of await ports.accountsIn(parentId)) {
      if (!seenAccounts.has(account.id)) {
        seenAccounts.add(account.id);
        accounts.push({ ...account, parentId });
      }
    }
    for (const child of await ports.unitsIn(parentId)) {
      if (excludeUnits.includes(child)) {
        unitsExcluded.push(child);
      } else {
        pending.push(child);
      }
    }
  }
  return { accounts, unitsVisited: visited.size, unitsExcluded };
}

export interface SelectionRules {
  /** When not empty, only these accounts (among those found) are covered. */
  includeAccounts: readonly string[];
  excludeAccounts: readonly string[];
  regions: readonly string[];
  /** StackSets never deploy to the management account, so it has no member role: left out. */
  managementAccountId?: string;
}

export interface Selection {
  /** Every in-scope account times every region, accounts in the order found. */
  targets: Target[];
  skipped: { account: string; reason: string }[];
  /** Accounts in includeAccounts that are not under the configured units. */
  notFound: string[];
}

/** Only ACTIVE accounts are covered: SUSPENDED, PENDING_CLOSURE and CLOSED ones cannot be worked in. */
const ACTIVE = "ACTIVE";

export function selectTargets(accounts: readonly OrgAccount[], rules: SelectionRules): Selection {
  const targets: Target[] = [];
  const skipped: Selection["skipped"] = [];
  for (const account of accounts) {
    let reason: string | undefined;
    if (account.id === rules.managementAccountId) {
      reason = "the management account: StackSets deploy no member role there";
    } else if (rules.excludeAccounts.includes(account.id)) {
      reason = "listed in excludeAccounts";
    } else if (rules.includeAccounts.length > 0 && !rules.includeAccounts.includes(account.id)) {
      reason = "not listed in includeAccounts";
    } else if (account.state !== ACTIVE) {
      reason = `state ${account.state}`;
    }
    if (reason === undefined) {
      targets.push(...rules.regions.map((region) => ({ account: account.id, region })));
    } else {
      skipped.push({ account: account.id, reason });
    }
  }
  const found = accounts.map((a) => a.id);
  return { targets, skipped, notFound: rules.includeAccounts.filter((id) => !found.includes(id)) };
}

/** The message bodies, one per target. */
export function targetMessages(targets: readonly Target[], options: { dryRun?: boolean } = {}): string[] {
  return targets.map((target) =>
    JSON.stringify(
      options.dryRun === undefined
        ? { account: target.account, region: target.region }
        : { account: target.account, region: target.region, dryRun: options.dryRun },
    ),
  );
}

/** A message body read back, checked: only the worker's configured regions are accepted. */
export function parseTargetMessage(
  body: string,
  regions: readonly string[],
): { ok: true; target: TargetMessage } | { ok: false; problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, problem: `not JSON: ${body.slice(0, 200)}` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: `not a JSON object: ${body.slice(0, 200)}` };
  }
  const { account, region, dryRun, ...rest } = parsed as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof account !== "string" || !ACCOUNT_ID.test(account)) {
    problems.push(`account ${JSON.stringify(account)?.slice(0, 100)}: must be a 12-digit account ID`);
  }
  if (typeof region !== "string" || !regions.includes(region)) {
    problems.push(`region ${JSON.stringify(region)?.slice(0, 100)}: must be one of ${regions.join(", ")}`);
  }
  if (dryRun !== undefined && typeof dryRun !== "boolean") {
    problems.push(`dryRun ${JSON.stringify(dryRun)?.slice(0, 100)}: must be a boolean`);
  }
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    // At most 10 named, as the function's own payload check does: a huge body makes no huge log line.
    const more = unknown.length > 10 ? ` and ${unknown.length - 10} more` : "";
    problems.push(
      `unknown fields ${unknown
        .slice(0, 10)
        .map((k) => JSON.stringify(k.slice(0, 50)))
        .join(", ")}${more}`,
    );
  }
  if (problems.length > 0) {
    return { ok: false, problem: problems.join("; ") };
  }
  return {
    ok: true,
    target: {
      account: account as string,
      region: region as string,
      ...(dryRun === undefined ? {} : { dryRun: dryRun as boolean }),
    },
  };
}
