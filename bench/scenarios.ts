// The benchmark's accounts and the minimum number of API calls any tagger needs on each.
import { addDays } from "../handler/dates";
import { decideTags, tagSetKey, type PolicySettings, type Tag } from "../handler/tagPolicy";
import type { AccountSpec, Kind } from "./fakeAccount";

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

/** Ours under the current retention, tagged on one of the last 365 days. */
function ours(index: number): Tag[] {
  return [
    { Key: "Retention", Value: "90days" },
    { Key: "DeleteOn", Value: addDays(TODAY, 90 - (index % 365)) },
  ];
}

/** A deterministic pseudo-random choice of 1 in 100, spread through the listing. */
function onePercent(kind: Kind, index: number): boolean {
  const h = Math.imul(index + (kind === "image" ? 7919 : 0), 2654435761) >>> 0;
  return h % 100 === 0;
}

export function accountSpec(scenario: ScenarioName, snapshots: number): AccountSpec {
  const images = Math.round(snapshots / 10);
  switch (scenario) {
    case "first run":
      return { images, snapshots, initialTags: () => [] };
    case "steady state":
      return { images, snapshots, initialTags: (_kind, i) => ours(i) };
    case "retention change 10%":
      // Every tenth resource was tagged under 30 days, on one of the last 30 days.
      return {
        images,
        snapshots,
        initialTags: (_kind, i) =>
          i % 10 === 0
            ? [
                { Key: "Retention", Value: "30days" },
                { Key: "DeleteOn", Value: addDays(TODAY, 30 - (Math.floor(i / 10) % 30)) },
              ]
            : ours(i),
      };
    case "1% deleted mid-run":
      return { images, snapshots, initialTags: () => [], isGone: onePercent };
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
}

/**
 * List pages at 1000 a page, plus one CreateTags per 1000 resources per distinct tag set. When IDs
 * vanish after listing, EC2 fails the whole call naming one of them, so each damaged batch needs
 * at least one more CreateTags and a filtered Describe per 200 IDs to learn which are gone.
 */
export function minimumCalls(spec: AccountSpec): Minimum {
  let listPages = 0;
  let createTags = 0;
  let existenceChecks = 0;
  let toWrite = 0;
  for (const [kind, count] of [
    ["image", spec.images],
    ["snapshot", spec.snapshots],
  ] as [Kind, number][]) {
    listPages += Math.max(1, Math.ceil(count / PER_PAGE));
    const groups = new Map<string, { size: number; damaged: Set<number> }>();
    for (let i = 0; i < count; i++) {
      const decision = decideTags(spec.initialTags(kind, i), SETTINGS, TODAY);
      if (decision.action !== "write") {
        continue;
      }
      toWrite += 1;
      const key = tagSetKey(decision.tags);
      const group = groups.get(key) ?? { size: 0, damaged: new Set<number>() };
      if (spec.isGone?.(kind, i)) {
        group.damaged.add(Math.floor(group.size / PER_CALL));
      }
      group.size += 1;
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      createTags += Math.ceil(group.size / PER_CALL) + group.damaged.size;
      for (const batch of group.damaged) {
        const batchSize = Math.min(PER_CALL, group.size - batch * PER_CALL);
        existenceChecks += Math.ceil(batchSize / FILTER_VALUES);
      }
    }
  }
  return { listPages, createTags, existenceChecks, total: listPages + createTags + existenceChecks, toWrite };
}
