// The scope half of the stack config: which regions, which resources, and how DeleteOn is
// anchored. Pure, like parseConfig, which calls it with the same `bad` reporter.
import { ANY_VALUE, tagMatchProblems, type TagMatch } from "../handler/selection";
import {
  DEFAULT_MAX_DELETIONS,
  DEFAULT_SWEEP_HOURS,
  DELETE_ON_FROM,
  EXPIRY_LIMITS,
  SWEEP_HOURS,
  type HandlerSettings,
} from "../handler/settings";
import type { DeleteOnFrom } from "../handler/tagPolicy";
import { parseJsonText, readFlag, readInteger, type Bad } from "./configReaders";
import { regionProblem } from "./regions";

/** The handler's own settings for selection, anchoring and expiry, plus the regions to deploy to. */
export type ScopeConfig = Pick<
  HandlerSettings,
  | "includeTags"
  | "excludeTags"
  | "manageAmis"
  | "manageSnapshots"
  | "deleteOnFrom"
  | "expire"
  | "maxDeletionsPerRun"
  | "expireGraceDays"
  | "expireNoticeDays"
  | "adoptUnprovenTags"
  | "sweepHours"
> & {
  /** Several regions in one stack; empty means the stack's aws:region alone. */
  regions: string[];
  /** Days the Recycle Bin keeps what expiry deletes; 0 for no Recycle Bin rules. */
  recycleBinDays: number;
};

export const SCOPE_DEFAULTS: ScopeConfig = {
  regions: [],
  includeTags: {},
  excludeTags: {},
  manageAmis: true,
  manageSnapshots: true,
  deleteOnFrom: "first-seen",
  expire: false,
  maxDeletionsPerRun: DEFAULT_MAX_DELETIONS,
  expireGraceDays: 1,
  expireNoticeDays: 7,
  adoptUnprovenTags: false,
  sweepHours: DEFAULT_SWEEP_HOURS,
  recycleBinDays: 7,
};

/** The Recycle Bin keeps snapshots and AMIs 1 to 365 days (EBS User Guide, Create a retention rule). */
export const RECYCLE_BIN_DAYS = [1, 365] as const;

export function parseScopeConfig(raw: Record<string, string | undefined>, bad: Bad): ScopeConfig {
  // Undefined for text that does not parse, which every caller refuses.
  const json = (key: "regions" | "includeTags" | "excludeTags"): unknown => {
    const text = raw[key];
    if (text === undefined) {
      return SCOPE_DEFAULTS[key];
    }
    const parsed = parseJsonText(text);
    return parsed.ok ? parsed.value : undefined;
  };
  const flag = (key: "manageAmis" | "manageSnapshots" | "expire" | "adoptUnprovenTags"): boolean =>
    readFlag(raw, bad, key, SCOPE_DEFAULTS[key]);
  const bounded = (
    key: "maxDeletionsPerRun" | "expireGraceDays" | "expireNoticeDays" | "recycleBinDays" | "sweepHours",
    range: readonly [number, number],
    note = "",
  ): number => readInteger(raw, bad, key, SCOPE_DEFAULTS[key], range, note);

  let regions: string[] = [];
  const parsedRegions = json("regions");
  if (!Array.isArray(parsedRegions) || parsedRegions.some((r) => typeof r !== "string")) {
    bad("regions", raw.regions, 'must be a list of region names, e.g. ["us-east-1","eu-west-1"]');
  } else {
    regions = parsedRegions as string[];
    const duplicates = regions.filter((r, i) => regions.indexOf(r) !== i);
    for (const region of regions) {
      const problem = regionProblem(region);
      if (problem) {
        bad("regions", raw.regions, `unknown region ${JSON.stringify(region)}: ${problem}`);
      }
    }
    if (duplicates.length > 0) {
      bad("regions", raw.regions, `lists ${[...new Set(duplicates)].join(", ")} more than once`);
    }
  }

  const tagMatch = (key: "includeTags" | "excludeTags"): TagMatch => {
    const parsed = json(key);
    const problems =
      parsed === undefined ? ["must be a JSON object of tag key to value"] : tagMatchProblems(parsed);
    if (problems.length > 0) {
      bad(key, raw[key], `${problems.join(", ")} ("${ANY_VALUE}" matches any value)`);
      return {};
    }
    return parsed as TagMatch;
  };
  const includeTags = tagMatch("includeTags");
  const excludeTags = tagMatch("excludeTags");

  const manageAmis = flag("manageAmis");
  const manageSnapshots = flag("manageSnapshots");
  if (!manageAmis && !manageSnapshots) {
    bad(
      "manageSnapshots",
      raw.manageSnapshots,
      "and manageAmis cannot both be false: there would be nothing to manage",
    );
  }

  const deleteOnFrom = (raw.deleteOnFrom ?? SCOPE_DEFAULTS.deleteOnFrom) as DeleteOnFrom;
  if (!DELETE_ON_FROM.includes(deleteOnFrom)) {
    bad("deleteOnFrom", raw.deleteOnFrom, `must be one of ${DELETE_ON_FROM.join(", ")}`);
  }

  return {
    regions,
    includeTags,
    excludeTags,
    manageAmis,
    manageSnapshots,
    deleteOnFrom,
    expire: flag("expire"),
    maxDeletionsPerRun: bounded("maxDeletionsPerRun", EXPIRY_LIMITS.maxDeletions),
    sweepHours: bounded("sweepHours", SWEEP_HOURS),
    expireGraceDays: bounded("expireGraceDays", EXPIRY_LIMITS.graceDays),
    expireNoticeDays: bounded("expireNoticeDays", EXPIRY_LIMITS.noticeDays, "; 0 sends no notices"),
    adoptUnprovenTags: flag("adoptUnprovenTags"),
    recycleBinDays: bounded(
      "recycleBinDays",
      [0, RECYCLE_BIN_DAYS[1]],
      `; 0 turns the Recycle Bin rules off, otherwise ${RECYCLE_BIN_DAYS[0]} to ${RECYCLE_BIN_DAYS[1]} days`,
    ),
  };
}
