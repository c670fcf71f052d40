// The benchmark's accounts and the minimum number of API calls any tagger needs on each.
import { addDays } from "../handler/dates";
import type { LedgerEntry } from "../handler/proof";
import { decideTags, tagSetKey, type PolicySettings, type Tag } from "../handler/tagPolicy";
import type { AccountSpec, Kind } from "../local/emulator/ec2Account";
import { indexOfId } from "../local/emulator/resourceTable";

export const TODAY = "2026-11-29";
export const SETTINGS: PolicySettings = { retentionDays: 90, extraTags: {} };
const PER_PAGE = 1000;
const PER_CALL = 1000;
const FILTER_VALUES = 200;

export type ScenarioName = "first run" | "steady state" | "retention change 10%" | "1% deleted mid-run";
export const SCENARIOS: ScenarioName[] = [
  "first run",
  "steady state",
  "retention change 10%",
  "1% deleted mid-run",
];

/** The same array for the same tags, so the fake account can intern by identity. */
function cached(key: string, build: () => Tag[]): Tag[] {
  let tags = tagCache.get(key);
  if (!tags) {
    tags = build();
    tagCache.set(key, tags);
  }
  return tags;
}
const tagCache = new Map<string, Tag[]>();
const NO_TAGS: Tag[] = [];

const oursDay = (index: number) => index % 365;
const thirtyDay = (index: number) => Math.floor(index / 10) % 30;

/** Ours under the current retention, tagged on one of the last 365 days, with its proof. */
function ours(index: number): Tag[] {
  const day = oursDay(index);
  return cached(`90:${day}`, () => [
    { Key: "Retention", Value: "90days" },
    { Key: "DeleteOn", Value: addDays(TODAY, 90 - day) as string },
    { Key: "RetentionBatch", Value: `bench-90-${day}` },
  ]);
}

/** Tagged under 30 days, on one of the last 30 days, with its proof. */
function underThirtyDays(index: number): Tag[] {
  const day = thirtyDay(index);
  return cached(`30:${day}`, () => [
    { Key: "Retention", Value: "30days" },
    { Key: "DeleteOn", Value: addDays(TODAY, 30 - day) as string },
    { Key: "RetentionBatch", Value: `bench-30-${day}` },
  ]);
}

/**
 * The ledger entries that vouch for the tags above. Membership is computed from the ID's index,
 * not stored, so the ledger adds nothing to the run's memory figures.
 */
export function benchLedgerEntries(scope: string): LedgerEntry[] {
  const indexOf = indexOfId;
  const entries: LedgerEntry[] = [];
  for (let day = 0; day < 365; day++) {
    entries.push({
      batchId: `bench-90-${day}`,
      scope,
      retention: "90days",
      deleteOn: addDays(TODAY, 90 - day) as string,
      ids: { has: (id) => oursDay(indexOf(id)) === day },
    });
  }
  for (let day = 0; day < 30; day++) {
    entries.push({
      batchId: `bench-30-${day}`,
      scope,
      retention: "30days",
      deleteOn: addDays(TODAY, 30 - day) as string,
      ids: { has: (id) => indexOf(id) % 10 === 0 && thirtyDay(indexOf(id)) === day },
    });
  }
  return entries;
}

/** A deterministic pseudo-random choice of 1 in 100, spread through the listing. */
export function onePercent(kind: Kind, index: number): boolean {
  const h = Math.imul(index + (kind === "image" ? 7919 : 0), 2654435761) >>> 0;
  return h % 100 === 0;
}

export function accountSpec(
  scenario: ScenarioName,
  snapshots: number,
  images = Math.round(snapshots / 10),
): AccountSpec {
  switch (scenario) {
    case "first run":
      return { images, snapshots, initialTags: () => NO_TAGS };
    case "steady state":
      return { images, snapshots, initialTags: (_kind, i) => ours(i) };
    case "retention change 10%":
      // Every tenth resource was tagged under 30 days, on one of the last 30 days.
      return {
        images,
        snapshots,
        initialTags: (_kind, i) => (i % 10 === 0 ? underThirtyDays(i) : ours(i)),
      };
    case "1% deleted mid-run":
      return { images, snapshots, initialTags: () => NO_TAGS, isGone: onePercent };
  }
}

export interface Minimum {
  listPages: number;
  createTags: number;
  /** Filtered Describe calls to find which IDs of a damaged batch still exist. */
  existenceChecks: number;
  total: number;
  /** Resources that need a write (gone ones included: nobody can know in advance). */
  toWrite: number;
  /** The same counted per kind (AMIs and snapshots never sharing a CreateTags): the old figure. */
  perKindTotal: number;
}

/** What one resource needs written: its kind, tag set and whether its ID is gone. */
export interface PlannedResource {
  kind: Kind;
  tags: Tag[];
  gone: boolean;
}

/**
 * One CreateTags per 1000 resources per distinct tag set, AMIs and snapshots together (CreateTags
 * takes any resource IDs). When IDs vanish after listing, EC2 fails the whole call naming one of
 * them, so each damaged batch needs one more CreateTags and, per kind in it, a filtered Describe per
 * 200 IDs to learn which are gone.
 */
export function minimumWrites(
  resources: Iterable<PlannedResource>,
): Omit<Minimum, "listPages" | "total" | "perKindTotal"> {
  let createTags = 0;
  let existenceChecks = 0;
  let toWrite = 0;
  // Per tag set: the batches in order, each with its size per kind and whether an ID in it is gone.
  const groups = new Map<string, { image: number; snapshot: number; damaged: boolean }[]>();
  for (const resource of resources) {
    const decision = decideTags(resource.tags, SETTINGS, TODAY);
    if (decision.action !== "write") {
      continue;
    }
    toWrite += 1;
    const key = tagSetKey(decision.tags);
    const batches = groups.get(key) ?? [];
    let last = batches[batches.length - 1];
    if (!last || last.image + last.snapshot === PER_CALL) {
      last = { image: 0, snapshot: 0, damaged: false };
      batches.push(last);
    }
    last[resource.kind] += 1;
    last.damaged ||= resource.gone;
    groups.set(key, batches);
  }
  for (const batches of groups.values()) {
    for (const batch of batches) {
      createTags += batch.damaged ? 2 : 1;
      if (batch.damaged) {
        existenceChecks += Math.ceil(batch.image / FILTER_VALUES) + Math.ceil(batch.snapshot / FILTER_VALUES);
      }
    }
  }
  return { createTags, existenceChecks, toWrite };
}

/** List pages at 1000 a page per kind, plus the writes above, counted across kinds. */
export function minimumCalls(spec: AccountSpec): Minimum {
  const kinds: [Kind, number][] = [
    ["image", spec.images],
    ["snapshot", spec.snapshots],
  ];
  let listPages = 0;
  for (const [, count] of kinds) {
    listPages += Math.max(1, Math.ceil(count / PER_PAGE));
  }
  const planned = function* (only?: Kind): Generator<PlannedResource> {
    for (const [kind, count] of kinds) {
      if (only !== undefined && kind !== only) {
        continue;
      }
      for (let i = 0; i < count; i++) {
        yield { kind, tags: spec.initialTags(kind, i), gone: spec.isGone?.(kind, i) ?? false };
      }
    }
  };
  const writes = minimumWrites(planned());
  let perKindTotal = listPages;
  for (const [kind] of kinds) {
    const kindWrites = minimumWrites(planned(kind));
    perKindTotal += kindWrites.createTags + kindWrites.existenceChecks;
  }
  return {
    listPages,
    ...writes,
    total: listPages + writes.createTags + writes.existenceChecks,
    perKindTotal,
  };
}
