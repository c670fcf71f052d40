// What the tagger does to one resource, given the tags it already has. Pure: no AWS, no clock.
import { addDays, parseIsoDate } from "./dates";
import { DELETE_ON_KEY, RETENTION_KEY, parseRetentionValue, retentionValue } from "./tagRules";

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
 * - `write`: put these tags on the resource (never a key we did not write, never an existing extra tag).
 * - `keep`: already carries our tags for the current retention; nothing to do.
 * - `skip`: a Retention or DeleteOn tag someone else wrote; the resource is not ours to touch.
 */
export type Decision =
  | { action: "write"; tags: Tag[]; reason: WriteReason; warning?: string }
  | { action: "keep" }
  | { action: "skip"; reason: string };

export type WriteReason = "new" | "re-anchored" | "repaired" | "extra-tags";

/**
 * Decides what to write on a resource. `today` is the UTC date of the run (YYYY-MM-DD);
 * `createdOn` the resource's own UTC creation date, used when settings.deleteOnFrom is "creation".
 *
 * DeleteOn is anchored on the day the resource was first tagged: a rerun never moves it, and a
 * retention change from M to N days moves it by N - M, so the anchor survives any number of changes.
 */
export function decideTags(
  existing: readonly Tag[] | undefined,
  settings: PolicySettings,
  today: string,
  createdOn?: string,
): Decision {
  const current = new Map<string, string>();
  for (const tag of existing ?? []) {
    current.set(tag.Key, tag.Value);
  }
  const retention = current.get(RETENTION_KEY);
  const deleteOn = current.get(DELETE_ON_KEY);
  const wanted = retentionValue(settings.retentionDays);
  // "creation" anchors on the resource's own date (possibly long past); without one, on today.
  const anchor = settings.deleteOnFrom === "creation" && createdOn !== undefined ? createdOn : today;
  const fresh = (): Tag[] => [
    { Key: RETENTION_KEY, Value: wanted },
    { Key: DELETE_ON_KEY, Value: addDays(anchor, settings.retentionDays) },
  ];

  let ours: Tag[];
  let reason: WriteReason | undefined;
  let warning: string | undefined;
  if (retention === undefined) {
    if (deleteOn !== undefined) {
      return { action: "skip", reason: `${DELETE_ON_KEY}=${deleteOn} without a ${RETENTION_KEY} tag` };
    }
    [ours, reason] = [fresh(), "new"];
  } else {
    const previousDays = parseRetentionValue(retention);
    if (previousDays === undefined) {
      return { action: "skip", reason: `${RETENTION_KEY}=${retention} is not of the form <N>days` };
    }
    if (deleteOn === undefined || parseIsoDate(deleteOn) === undefined) {
      [ours, reason] = [fresh(), "repaired"];
      warning = `${RETENTION_KEY}=${retention} with ${deleteOn === undefined ? "no" : `malformed ${DELETE_ON_KEY}=${deleteOn}`}; re-dated from ${anchor === today ? "today" : `its creation, ${anchor}`}`;
    } else if (previousDays === settings.retentionDays) {
      ours = [];
    } else {
      const firstTagged = addDays(deleteOn, -previousDays);
      [ours, reason] = [
        [
          { Key: RETENTION_KEY, Value: wanted },
          { Key: DELETE_ON_KEY, Value: addDays(firstTagged, settings.retentionDays) },
        ],
        "re-anchored",
      ];
    }
  }

  const extras = Object.entries(settings.extraTags)
    .filter(([key]) => !current.has(key))
    .map(([Key, Value]) => ({ Key, Value }));
  const tags = [...ours, ...extras];
  if (tags.length === 0) {
    return { action: "keep" };
  }
  return { action: "write", tags, reason: reason ?? "extra-tags", ...(warning ? { warning } : {}) };
}

/** A stable key for a tag set, so resources needing identical tags share one CreateTags call. */
export function tagSetKey(tags: readonly Tag[]): string {
  return JSON.stringify(
    [...tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0)).map((t) => [t.Key, t.Value]),
  );
}
