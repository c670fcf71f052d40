// The decide stage: one listed resource in, its counts, expiry and notice bookkeeping, and at most
// one queued write out. Anything that throws for one resource fails that resource alone.
import { describeError } from "./errors";
import type { Kind, Listed } from "./list";
import type { Logger } from "./ports";
import { proofStatus, type EntryLookup } from "./proof";
import { exclusionReason, type TagMatch } from "./selection";
import type { Decision, DeleteOnFrom, Tag, decideTags } from "./tagPolicy";
import type { Failure } from "./write";

const MAX_EXAMPLES = 10;

export interface KindCounts {
  listed: number;
  /** Resources that needed a write this run. */
  planned: number;
  /** Written (or, in a dry run, that would have been). */
  tagged: number;
  /** Already ours with the current retention. */
  unchanged: number;
  /** Carry a Retention or DeleteOn tag we did not write. */
  skipped: number;
  /** Left alone by includeTags / excludeTags. */
  excluded: number;
  failed: number;
  /** Carry our Retention and DeleteOn without proof that this stack wrote them: never expired. */
  unproven: number;
  /** Unproven tags recorded as ours by adoptUnprovenTags. */
  adopted: number;
}

export function emptyCounts(): KindCounts {
  return {
    listed: 0,
    planned: 0,
    tagged: 0,
    unchanged: 0,
    skipped: 0,
    excluded: 0,
    failed: 0,
    unproven: 0,
    adopted: 0,
  };
}

export interface DeciderOptions {
  settings: {
    retentionDays: number;
    extraTags: Record<string, string>;
    deleteOnFrom?: DeleteOnFrom;
    adoptUnprovenTags?: boolean;
  };
  include: TagMatch;
  exclude: TagMatch;
  today: string;
  scope: string;
  decide: typeof decideTags;
  log: Logger;
  counts: (kind: Kind) => KindCounts;
  fail: (kind: Kind, failure: Failure) => void;
  /** Sees every managed, not excluded resource and its decision (expiry planner, notices). */
  observe: (kind: Kind, resource: Listed, decision: Decision) => void;
  write: (id: string, tags: Tag[], record: boolean) => Promise<void>;
}

export function createDecider(options: DeciderOptions) {
  const examples = { skipped: [] as string[], repaired: [] as string[], unproven: [] as string[] };
  let repaired = 0;
  const note = (list: string[], text: string) => {
    if (list.length < MAX_EXAMPLES) {
      list.push(text);
    }
  };

  async function decideOne(kind: Kind, resource: Listed, lookup: EntryLookup): Promise<void> {
    const counts = options.counts(kind);
    if (!resource.id) {
      throw new Error("EC2 listed a resource without an ID");
    }
    if (exclusionReason(resource.tags, options.include, options.exclude) !== undefined) {
      counts.excluded += 1;
      return;
    }
    const proof = proofStatus(resource.id, resource.tags, lookup, options.scope);
    const decision = options.decide(resource.tags, options.settings, options.today, resource.createdOn, {
      proof,
      adopt: options.settings.adoptUnprovenTags === true,
    });
    options.observe(kind, resource, decision);
    if ((decision.action === "keep" || decision.action === "write") && decision.proof === "unproven") {
      counts.unproven += 1;
      note(examples.unproven, resource.id);
    }
    if (decision.action === "keep") {
      counts.unchanged += 1;
    } else if (decision.action === "skip") {
      counts.skipped += 1;
      note(examples.skipped, `${resource.id}: ${decision.reason}`);
    } else if (decision.action === "defer") {
      options.fail(kind, { id: resource.id, code: "LedgerUnavailable", message: decision.reason });
    } else {
      counts.planned += 1;
      if (decision.reason === "adopted") {
        counts.adopted += 1;
      }
      if (decision.warning) {
        repaired += 1;
        note(examples.repaired, `${resource.id}: ${decision.warning}`);
      }
      await options.write(resource.id, decision.tags, decision.proof === "record");
    }
  }

  return {
    /** Decides one listed resource; a throw fails that resource and the run goes on. */
    async handle(kind: Kind, resource: Listed, lookup: EntryLookup): Promise<void> {
      options.counts(kind).listed += 1;
      try {
        await decideOne(kind, resource, lookup);
      } catch (error) {
        const { code, message } = describeError(error);
        const failure = {
          id: resource.id || "(no id)",
          code: "ResourceFailed",
          message: `${code}: ${message}`,
        };
        options.fail(kind, failure);
        options.log.error("could not handle one resource; the run goes on", {
          kind,
          ...failure,
          tags: resource.tags,
        });
      }
    },
    /** The run's summary lines about what it found. */
    logSummary(amis: KindCounts, snapshots: KindCounts): void {
      if (repaired > 0) {
        options.log.warn("our Retention tag with a missing or malformed DeleteOn; re-dated", {
          count: repaired,
          examples: examples.repaired,
        });
      }
      if (amis.skipped + snapshots.skipped > 0) {
        options.log.info("skipped resources with Retention or DeleteOn tags we did not write", {
          count: amis.skipped + snapshots.skipped,
          amis: amis.skipped,
          snapshots: snapshots.skipped,
          examples: examples.skipped,
        });
      }
      if (amis.unproven + snapshots.unproven > 0) {
        options.log.warn(
          "backups carry our Retention and DeleteOn without proof that this stack dated them; they are never expired",
          {
            amis: amis.unproven,
            snapshots: snapshots.unproven,
            examples: examples.unproven,
            adopt:
              "set adoptUnprovenTags to record those without a RetentionBatch tag as ours (a trust decision)",
          },
        );
      }
    },
  };
}
