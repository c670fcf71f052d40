// What the tagger does to one resource, given the tags it already has. Pure: no AWS, no clock.
import { MAX_DATE, MIN_DATE, addDays, dateOfDay, dayNumber } from "./dates";
import type { ProofStatus } from "./proof";
import { BATCH_KEY, DELETE_ON_KEY, RETENTION_KEY, parseRetentionValue, retentionValue } from "./tagRules";

export interface Tag {
  Key: string;
  Value: string;
}

export type DeleteOnFrom = "first-seen" | "creation";

export interface PolicySettings {
  retentionDays: number;
  extraTags: Record<string, string>;
  /** Date new tags count from: the run that first sees the resource (default), or its creation. */
  deleteOnFrom?: DeleteOnFrom;
}

/**
 * What a resource's proof of authorship is after the decision: `record` means this write dates it
 * and records the batch in the ledger; the others are the resource's current status (proof.ts).
 */
export type ProofAfter = "record" | ProofStatus;

/**
 * - `write`: put these tags on the resource (never a key we did not write, never an existing extra tag).
 * - `keep`: already carries our tags for the current retention; nothing to do.
 * - `skip`: a Retention or DeleteOn tag someone else wrote; the resource is not ours to touch.
 * - `defer`: the decision needs the ledger, which could not be read; the next run decides.
 */
export type Decision =
  | { action: "write"; tags: Tag[]; reason: WriteReason; proof: ProofAfter; warning?: string }
  | { action: "keep"; proof: ProofStatus }
  | { action: "skip"; reason: string }
  | { action: "defer"; reason: string };

export type WriteReason = "new" | "re-anchored" | "repaired" | "extra-tags" | "adopted";

export interface ProofContext {
  /** Whether the ledger vouches for the resource's current Retention and DeleteOn. Default unproven. */
  proof?: ProofStatus;
  /** Record settled but unproven resources (no RetentionBatch tag) as ours: an operator's trust decision. */
  adopt?: boolean;
}

/**
 * Decides what to write on a resource. `today` is the UTC date of the run (YYYY-MM-DD);
 * `createdOn` the resource's own UTC creation date, used when settings.deleteOnFrom is "creation".
 *
 * DeleteOn is anchored on the day the resource was first tagged: a rerun never moves it, and a
 * retention change from M to N days moves it by N - M, so the anchor survives any number of changes.
 * Only dates derived from a first sighting or from proven tags are recorded as ours; a date derived
 * from unproven tags (re-anchoring or repairing them) stays unproven, so it can never be expired.
 */
export function decideTags(
  existing: readonly Tag[] | undefined,
  settings: PolicySettings,
  today: string,
  createdOn?: string,
  context: ProofContext = {},
): Decision {
  const current = new Map<string, string>();
  for (const tag of existing ?? []) {
    current.set(tag.Key, tag.Value);
  }
  const proof = context.proof ?? "unproven";
  const retention = current.get(RETENTION_KEY);
  const deleteOn = current.get(DELETE_ON_KEY);
  const wanted = retentionValue(settings.retentionDays);
  // "creation" anchors on the resource's own date (possibly long past); without one, on today.
  const created =
    settings.deleteOnFrom === "creation" && createdOn !== undefined
      ? addDays(createdOn, settings.retentionDays)
      : undefined;
  const anchor = created === undefined ? today : (createdOn as string);
  const freshDate = created ?? addDays(today, settings.retentionDays);
  if (freshDate === undefined) {
    return {
      action: "skip",
      reason: `${today} + ${settings.retentionDays} days leaves ${MIN_DATE} to ${MAX_DATE}`,
    };
  }
  const fresh = (): Tag[] => [
    { Key: RETENTION_KEY, Value: wanted },
    { Key: DELETE_ON_KEY, Value: freshDate },
  ];

  let ours: Tag[];
  let reason: WriteReason | undefined;
  let after: ProofAfter = proof;
  let warning: string | undefined;
  if (retention === undefined) {
    if (deleteOn !== undefined) {
      return { action: "skip", reason: `${DELETE_ON_KEY}=${deleteOn} without a ${RETENTION_KEY} tag` };
    }
    [ours, reason, after] = [fresh(), "new", "record"];
  } else {
    const previousDays = parseRetentionValue(retention);
    if (previousDays === undefined) {
      return { action: "skip", reason: `${RETENTION_KEY}=${retention} is not of the form <N>days` };
    }
    const deleteOnDay = deleteOn === undefined ? undefined : dayNumber(deleteOn);
    // Day numbers, not dates: the anchor itself may fall before 1970 when only the result must not.
    const reanchored =
      deleteOnDay === undefined ? undefined : dateOfDay(deleteOnDay - previousDays + settings.retentionDays);
    if (deleteOn === undefined || deleteOnDay === undefined || reanchored === undefined) {
      const problem =
        deleteOn === undefined
          ? "no"
          : deleteOnDay === undefined
            ? `malformed ${DELETE_ON_KEY}=${deleteOn} (a date from ${MIN_DATE} to ${MAX_DATE} is expected)`
            : `${DELETE_ON_KEY}=${deleteOn} that re-anchoring would move past ${MAX_DATE}`;
      [ours, reason, after] = [fresh(), "repaired", "unproven"];
      warning = `${RETENTION_KEY}=${retention} with ${problem}; re-dated from ${anchor === today ? "today" : `its creation, ${anchor}`}`;
    } else if (previousDays === settings.retentionDays) {
      ours = [];
      if (context.adopt && proof === "unproven" && !current.has(BATCH_KEY)) {
        // Re-stating the same two values lets the batch record them; nothing visible changes.
        [ours, reason, after] = [
          [
            { Key: RETENTION_KEY, Value: retention },
            { Key: DELETE_ON_KEY, Value: deleteOn },
          ],
          "adopted",
          "record",
        ];
      }
    } else if (proof === "unknown") {
      return { action: "defer", reason: "re-anchoring needs the ledger entry, which could not be read" };
    } else {
      [ours, reason, after] = [
        [
          { Key: RETENTION_KEY, Value: wanted },
          { Key: DELETE_ON_KEY, Value: reanchored },
        ],
        "re-anchored",
        proof === "proven" ? "record" : "unproven",
      ];
    }
  }

  const extras = Object.entries(settings.extraTags)
    .filter(([key]) => !current.has(key))
    .map(([Key, Value]) => ({ Key, Value }));
  const tags = [...ours, ...extras];
  if (tags.length === 0) {
    return { action: "keep", proof: after as ProofStatus };
  }
  return {
    action: "write",
    tags,
    reason: reason ?? "extra-tags",
    proof: after,
    ...(warning ? { warning } : {}),
  };
}

/** A stable key for a tag set, so resources needing identical tags share one CreateTags call. */
export function tagSetKey(tags: readonly Tag[]): string {
  return JSON.stringify(
    [...tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0)).map((t) => [t.Key, t.Value]),
  );
}
