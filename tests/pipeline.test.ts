// The pipeline as production runs it (PIPELINE tuning): kinds sharing writes, the sweep continuing
// across runs, the filter's self-check, expiry by the due query, and the backlog.
import { expect } from "chai";
import { encodeShards } from "../handler/shards";
import { SWEEP_STATE, parseSweepState, type SweepState } from "../handler/sweep";
import { tagBackups, type TaggerPorts, type TaggerSettings } from "../handler/tagger";
import type { Tag } from "../handler/tagPolicy";
import { PIPELINE, SEQUENTIAL, tuningFor } from "../handler/tuning";
import { MemoryLedger } from "../local/memoryLedger";
import { recordingLogger, spreadResources, stubEc2 } from "./support/ec2Stub";

const NOW = new Date("2026-11-29T10:00:00Z");
const SETTINGS: TaggerSettings = { retentionDays: 90, extraTags: {}, dryRun: false, safetyMarginMs: 1000 };

async function run(
  ec2: ReturnType<typeof stubEc2>,
  settings: Partial<TaggerSettings> = {},
  ports: Partial<TaggerPorts> = {},
) {
  const { log, lines } = recordingLogger();
  const report = await tagBackups(
    { ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 600_000, ...ports },
    { ...SETTINGS, ...settings },
  );
  return { report, lines };
}

/** A ledger whose sweep believes the account large: the next pass is cut into 64 partitions. */
function largeAccountLedger(): MemoryLedger {
  const ledger = new MemoryLedger();
  const state: SweepState = {
    pass: { startedAt: NOW.toISOString(), done: encodeShards(Array(256).fill(true)), listed: 0 },
    estimate: 1_000_000,
  };
  ledger.state.set(SWEEP_STATE, JSON.stringify(state));
  return ledger;
}

/** A run's time, spent by EC2 calls: each costs `msPerCall` of a `budgetMs` run. */
function timedBy(ec2: ReturnType<typeof stubEc2>, budgetMs: number, msPerCall: number) {
  const start = ec2.send.callCount;
  return () => budgetMs - (ec2.send.callCount - start) * msPerCall;
}

describe("the pipeline", () => {
  it("writes AMI and snapshot IDs that need the same tags in the same CreateTags calls", async () => {
    const ec2 = stubEc2({ images: spreadResources("ami", 400), snapshots: spreadResources("snap", 500) });
    const { report } = await run(ec2);
    const writes = ec2.sent("CreateTagsCommand");
    expect(writes).to.have.length(1);
    const ids: string[] = writes[0].Resources;
    expect(ids.filter((id) => id.startsWith("ami-"))).to.have.length(400);
    expect(ids.filter((id) => id.startsWith("snap-"))).to.have.length(500);
    expect(report.amis.tagged).to.equal(400);
    expect(report.snapshots.tagged).to.equal(500);
    // The sequential baseline writes each kind apart: one call more.
    const apart = stubEc2({ images: spreadResources("ami", 400), snapshots: spreadResources("snap", 500) });
    await run(apart, { tuning: SEQUENTIAL });
    expect(apart.sent("CreateTagsCommand")).to.have.length(2);
  });

  it("lists an account by shard partitions with snapshot-id wildcards, sized by what the last pass counted", async () => {
    const ec2 = stubEc2({ snapshots: spreadResources("snap", 30_000) });
    const ledger = new MemoryLedger();
    const filtered = () =>
      ec2
        .sent("DescribeSnapshotsCommand")
        .flatMap((input) => (input.Filters ?? []).flatMap((f: { Values: string[] }) => f.Values));
    // Size unknown: the sample page, then the first shard alone (117 snapshots, one page), which
    // sizes the rest at about 30,000: two partitions of 128 shards less the first, 15 pages each.
    const first = await run(ec2, {}, { ledger });
    const calls = ec2.sent("DescribeSnapshotsCommand");
    expect(calls[0].Filters).to.equal(undefined);
    expect(calls[1].Filters).to.deep.equal([{ Name: "snapshot-id", Values: ["snap-00*"] }]);
    expect(calls.slice(2).some((input) => (input.Filters?.[0].Values ?? []).includes("snap-00*"))).to.be
      .false;
    // "snap-00*"; "snap-01*" to "snap-0f*" and "snap-1*" to "snap-7*"; "snap-8*" to "snap-f*".
    expect([...new Set(filtered())]).to.have.length(1 + 15 + 7 + 8);
    expect(calls).to.have.length(1 + 1 + 15 + 15);
    expect(first.report.snapshots).to.deep.include({ listed: 30_000, tagged: 30_000 });
    expect(first.report.sweep).to.deep.include({
      passComplete: true,
      shardsDone: 256,
      fullPassWithinSweep: true,
    });
    expect(parseSweepState(ledger.state.get(SWEEP_STATE))?.estimate).to.equal(30_000);
    // Known to be 30,000: two partitions of 128 shards (15 pages each), plus the sample page.
    const second = await run(ec2, {}, { ledger });
    expect(ec2.sent("DescribeSnapshotsCommand")).to.have.length(32 + 1 + 30);
    expect(second.report.snapshots).to.deep.include({ listed: 30_000, unchanged: 30_000 });
    expect(second.report.complete).to.be.true;
  });

  it("lists an account that fits in one page with that page alone", async () => {
    const ec2 = stubEc2({ snapshots: spreadResources("snap", 999) });
    const { report } = await run(ec2, {}, { ledger: new MemoryLedger() });
    expect(ec2.sent("DescribeSnapshotsCommand")).to.have.length(1);
    expect(report.sweep).to.deep.include({ passComplete: true, shardsDone: 256 });
    expect(report.snapshots.tagged).to.equal(999);
  });

  it("leaves the next run new work: each run cut short finishes more shards, and the pass completes", async () => {
    const ec2 = stubEc2({ snapshots: spreadResources("snap", 30_000) });
    const ledger = new MemoryLedger();
    const shardsDone: number[] = [];
    let report;
    do {
      // About 60 calls a run before the margin: not enough for 30 pages and 30 writes at once.
      ({ report } = await run(ec2, {}, { ledger, remainingMs: timedBy(ec2, 61_000, 1_000) }));
      shardsDone.push(report.sweep?.shardsDone ?? 0);
    } while (!report.sweep?.passComplete && shardsDone.length < 10);
    expect(shardsDone.length).to.be.greaterThan(1);
    expect(report.sweep?.passComplete).to.be.true;
    // New work every run: the shards done only ever grow, never restart.
    shardsDone.slice(1).forEach((done, i) => expect(done, `run ${i + 2}`).to.be.greaterThan(shardsDone[i]));
    const untagged = [...ec2.snapshots.values()].filter((tags) => !tags.some((t) => t.Key === "DeleteOn"));
    expect(untagged).to.have.length(0);
  });

  it("reports an incomplete pass in the response fields until it completes", async () => {
    const ec2 = stubEc2({ snapshots: spreadResources("snap", 30_000) });
    const ledger = largeAccountLedger();
    const { report } = await run(ec2, {}, { ledger, remainingMs: timedBy(ec2, 61_000, 1_000) });
    expect(report.complete).to.be.false;
    expect(report.sweep?.passComplete).to.be.false;
    expect(report.sweep?.fullPassWithinSweep).to.be.false;
    expect(report.sweep?.shardsDone).to.be.greaterThan(0).and.lessThan(256);
  });

  it("falls back to unfiltered listings when EC2's filter returns snapshots of other shards", async () => {
    const ec2 = stubEc2({
      snapshots: spreadResources("snap", 5_000),
      // An EC2 that ignored the snapshot-id filter would list everything for every partition.
      beforeCommand: (name, input) => {
        if (name === "DescribeSnapshotsCommand" && input.Filters) {
          delete input.Filters;
        }
      },
    });
    const ledger = largeAccountLedger();
    const first = await run(ec2, {}, { ledger });
    expect(first.report.sweep?.filterCheckFailures).to.be.greaterThan(0);
    expect(first.report.sweep?.passComplete).to.be.false;
    expect(parseSweepState(ledger.state.get(SWEEP_STATE))?.pass.unfiltered).to.be.true;
    expect(first.lines.some((l) => String(l.message).includes("failed its check"))).to.be.true;
    // The next run lists without the filter, and completes the pass.
    const second = await run(ec2, {}, { ledger });
    expect(second.report.sweep?.passComplete).to.be.true;
    expect(second.report.snapshots.listed).to.equal(5_000);
  });

  it("falls back when a filtered listing misses snapshots that an unfiltered one shows", async () => {
    const all = spreadResources("snap", 5_000);
    const hiddenId = all[3].id; // in the first, unfiltered page: the check's sample
    const ec2 = stubEc2({
      snapshots: all,
      // Filtered listings leave one snapshot out, as a broken wildcard filter might.
      afterCommand: (name, input, answer) =>
        name === "DescribeSnapshotsCommand" && input.Filters?.[0]?.Name === "snapshot-id"
          ? {
              ...answer,
              Snapshots: answer.Snapshots.filter((s: { SnapshotId: string }) => s.SnapshotId !== hiddenId),
            }
          : answer,
    });
    const ledger = largeAccountLedger();
    const { report } = await run(ec2, {}, { ledger });
    expect(report.sweep?.filterCheckFailures).to.be.greaterThan(0);
    expect(parseSweepState(ledger.state.get(SWEEP_STATE))?.pass.unfiltered).to.be.true;
  });
});

describe("expiry in the pipeline", () => {
  const dated = (ledger: MemoryLedger, ids: string[], deleteOn: string): Tag[] => {
    const batchId = `batch-${ledger.entries.size + 1}`;
    ledger.entries.set(batchId, {
      batchId,
      scope: ledger.scope,
      retention: "90days",
      deleteOn,
      ids: new Set(ids),
    });
    return [
      { Key: "Retention", Value: "90days" },
      { Key: "DeleteOn", Value: deleteOn },
      { Key: "RetentionBatch", Value: batchId },
    ];
  };

  it("finds due snapshots by their tags in every run, whatever the sweep has reached", async () => {
    const ledger = new MemoryLedger();
    const others = spreadResources("snap", 30_000);
    const due = others.slice(-3).map((r) => r.id);
    const tags = dated(ledger, due, "2026-10-01");
    others.slice(-3).forEach((r) => (r.tags = tags.map((t) => ({ ...t }))));
    const ec2 = stubEc2({ snapshots: others });
    // A run with time for little of the sweep.
    const { report } = await run(
      ec2,
      { expire: true, safetyMarginMs: 1_000 },
      { ledger, remainingMs: timedBy(ec2, 40_000, 1_000) },
    );
    expect(report.sweep?.passComplete).to.be.false;
    expect(report.expiry?.snapshotsDeleted).to.equal(3);
    due.forEach((id) => expect(ec2.snapshots.has(id), id).to.be.false);
    const query = ec2
      .sent("DescribeSnapshotsCommand")
      .find((input) => (input.Filters ?? []).some((f: { Name: string }) => f.Name === "tag:DeleteOn"));
    expect(query.Filters).to.deep.include({ Name: "tag:Retention", Values: ["90days"] });
  });

  it("deletes beside the snapshot listing, once every AMI is listed, instead of waiting for it", async () => {
    const ledger = largeAccountLedger();
    const snaps = spreadResources("snap", 20_000);
    const due = snaps.slice(0, 5);
    const tags = dated(
      ledger,
      due.map((r) => r.id),
      "2026-10-01",
    );
    due.forEach((r) => (r.tags = tags.map((t) => ({ ...t }))));
    const ec2 = stubEc2({ images: spreadResources("ami", 10), snapshots: snaps });
    const { report } = await run(ec2, { expire: true }, { ledger });
    expect(report.expiry?.snapshotsDeleted).to.equal(5);
    const names = ec2.send.getCalls().map((c) => c.args[0].constructor.name);
    const firstDelete = names.indexOf("DeleteSnapshotCommand");
    expect(firstDelete).to.be.greaterThan(names.lastIndexOf("DescribeImagesCommand"));
    expect(firstDelete).to.be.lessThan(names.lastIndexOf("DescribeSnapshotsCommand"));
  });

  it("queries the notice window beside the deletions, not before them", async () => {
    const ledger = largeAccountLedger();
    const snaps = spreadResources("snap", 2_000);
    const due = snaps.slice(0, 5);
    const soon = snaps.slice(5, 8);
    const dueTags = dated(
      ledger,
      due.map((r) => r.id),
      "2026-10-01",
    );
    due.forEach((r) => (r.tags = dueTags.map((t) => ({ ...t }))));
    // Due on 2026-12-02, within the 7-day notice window of 2026-11-29.
    const soonTags = dated(
      ledger,
      soon.map((r) => r.id),
      "2026-11-30",
    );
    soon.forEach((r) => (r.tags = soonTags.map((t) => ({ ...t }))));
    // The notice window's answer waits for the first deletion (or 3 s): were the deletions to wait
    // for that answer instead, the window would be answered first, by the timer.
    let deletionSent!: () => void;
    let answeredFirst: "deletion" | "timer" | undefined;
    const deleting = new Promise<void>((resolve) => (deletionSent = resolve));
    const timer = setTimeout(() => {
      answeredFirst ??= "timer";
      deletionSent();
    }, 3_000);
    void deleting.then(() => (answeredFirst ??= "deletion"));
    const asksSoon = (input: { Filters?: { Name: string; Values: string[] }[] }) =>
      (input.Filters ?? []).some((f) => f.Name === "tag:DeleteOn" && f.Values.includes("2026-11-30"));
    const ec2 = stubEc2({
      snapshots: snaps,
      beforeCommand: (name) => (name === "DeleteSnapshotCommand" ? deletionSent() : undefined),
      afterCommand: (name, input, answer) =>
        name === "DescribeSnapshotsCommand" && asksSoon(input) ? deleting.then(() => answer) : answer,
    });
    const { report } = await run(ec2, { expire: true }, { ledger });
    clearTimeout(timer);
    expect(answeredFirst).to.equal("deletion");
    expect(report.expiry?.snapshotsDeleted).to.equal(5);
    // The window was still counted: the three due soon are in the report.
    expect(report.notice?.snapshotsDueSoon).to.equal(3);
    const queries = ec2
      .sent("DescribeSnapshotsCommand")
      .filter((input) => (input.Filters ?? []).some((f: { Name: string }) => f.Name === "tag:DeleteOn"));
    // The due query asks for due dates only (through 2026-11-27: DeleteOn + grace 1 + 1 day); the
    // window is its own query.
    const dueDates: string[] = queries.filter((q) => !asksSoon(q)).flatMap((q) => q.Filters[1].Values);
    expect(dueDates).to.include("2026-10-01");
    expect(dueDates.sort().at(-1)).to.equal("2026-11-27");
    expect(queries.filter(asksSoon)).to.have.length(1);
  });

  it("reports a backlog when the cap leaves due backups, and that it grows run over run", async () => {
    const ledger = new MemoryLedger();
    const snaps = spreadResources("snap", 10);
    const tags = dated(
      ledger,
      snaps.map((r) => r.id),
      "2026-10-01",
    );
    snaps.forEach((r) => (r.tags = tags.map((t) => ({ ...t }))));
    const ec2 = stubEc2({ snapshots: snaps });
    const first = await run(ec2, { expire: true, maxDeletionsPerRun: 2 }, { ledger });
    expect(first.report.expiry).to.deep.include({
      snapshotsDeleted: 2,
      backlog: 8,
      backlogGrowing: false,
      capped: true,
    });
    // Ten more fall due before the next run, which can delete only two again.
    const more = spreadResources("snap", 30).slice(20);
    const moreTags = dated(
      ledger,
      more.map((r) => r.id),
      "2026-10-02",
    );
    more.forEach((r) =>
      ec2.snapshots.set(
        r.id,
        moreTags.map((t) => ({ ...t })),
      ),
    );
    const second = await run(ec2, { expire: true, maxDeletionsPerRun: 2 }, { ledger });
    expect(second.report.expiry).to.deep.include({ snapshotsDeleted: 2, backlog: 16, backlogGrowing: true });
  });
});

describe("tuning by memory", () => {
  it("runs the full pipeline from 1024 MB, and fewer calls at once below, never fewer than 2", () => {
    expect(tuningFor(1024)).to.equal(PIPELINE);
    expect(tuningFor(undefined)).to.equal(PIPELINE);
    expect(tuningFor(512)).to.deep.include({ listConcurrency: 6 });
    expect(tuningFor(512).createTags.concurrency).to.equal(4);
    expect(tuningFor(192)).to.deep.include({ listConcurrency: 2 });
    expect(tuningFor(128).createTags.concurrency).to.equal(2);
  });
});
