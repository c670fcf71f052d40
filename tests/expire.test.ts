import { expect } from "chai";
import fc from "fast-check";
import { MAX_DATE, addDays, dateOfDay } from "../handler/dates";
import { expiryRefusal, isExpired } from "../handler/expire";
import { tagBackups, type TaggerPorts, type TaggerSettings } from "../handler/tagger";
import type { Tag } from "../handler/tagPolicy";
import { MemoryLedger } from "../local/memoryLedger";
import { recordingLogger, stubEc2, type FakeResource } from "./support/ec2Stub";

const NOW = new Date("2026-11-29T10:00:00Z");
const TODAY = "2026-11-29";
const EXPIRE: TaggerSettings = {
  retentionDays: 90,
  extraTags: {},
  dryRun: false,
  safetyMarginMs: 1000,
  expire: true,
  expireGraceDays: 1,
  maxDeletionsPerRun: 50,
};
const ours = (deleteOn: string, retention = "90days"): Tag[] => [
  { Key: "Retention", Value: retention },
  { Key: "DeleteOn", Value: deleteOn },
];

/** Records a batch in the ledger, as the function would have, and returns the tags it wrote. */
function dated(ledger: MemoryLedger, ids: string[], deleteOn: string, retention = "90days"): Tag[] {
  const batchId = `batch-${ledger.entries.size + 1}`;
  ledger.entries.set(batchId, { batchId, scope: ledger.scope, retention, deleteOn, ids: new Set(ids) });
  return [...ours(deleteOn, retention), { Key: "RetentionBatch", Value: batchId }];
}

async function run(
  resources: Parameters<typeof stubEc2>[0],
  settings: Partial<TaggerSettings> = {},
  ports: Partial<TaggerPorts> & { ledger?: MemoryLedger } = {},
) {
  const ec2 = stubEc2(resources);
  const { log, lines } = recordingLogger();
  const report = await tagBackups(
    { ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 600_000, ...ports },
    { ...EXPIRE, ...settings },
  );
  const deletions = ec2.send
    .getCalls()
    .map((c) => c.args[0])
    .filter((cmd) => ["DeregisterImageCommand", "DeleteSnapshotCommand"].includes(cmd.constructor.name))
    .map((cmd) => cmd.input.ImageId ?? cmd.input.SnapshotId);
  return { ec2, report, lines, deletions };
}

describe("expiry", () => {
  let ledger: MemoryLedger;
  let EXPIRED: (...ids: string[]) => Tag[];
  let CURRENT: (...ids: string[]) => Tag[];

  beforeEach(() => {
    ledger = new MemoryLedger("us-east-1");
    EXPIRED = (...ids) => dated(ledger, ids, "2026-10-01");
    CURRENT = (...ids) => dated(ledger, ids, "2027-01-15");
  });

  it("counts a backup as expired only once DeleteOn plus the grace days is before today", () => {
    expect(isExpired("2026-11-27", "2026-11-29", 1)).to.be.true;
    expect(isExpired("2026-11-28", "2026-11-29", 1)).to.be.false;
    expect(isExpired("2026-11-28", "2026-11-29", 0)).to.be.true;
    expect(isExpired("2026-11-29", "2026-11-29", 0)).to.be.false;
    expect(isExpired("soon", "2026-11-29", 0)).to.be.false;
  });

  it("never counts 9999-12-31, or any date out of range, as expired, whatever the grace", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 365 }), (grace) => !isExpired(MAX_DATE, TODAY, grace)));
    for (const bad of ["0100-03-01", "0000-01-01", "+010000-01-01", "10000-01-01", "1969-12-31"]) {
      expect(isExpired(bad, TODAY, 0), bad).to.be.false;
    }
    // Over the whole range: expired exactly when DeleteOn + grace is before today, by day numbers.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_932_896 }), fc.integer({ min: 0, max: 365 }), (day, grace) => {
        const deleteOn = dateOfDay(day) as string;
        const limit = addDays(deleteOn, grace);
        return isExpired(deleteOn, TODAY, grace) === (limit !== undefined && limit < TODAY);
      }),
    );
  });

  it("is off unless switched on: nothing is deleted by default", async () => {
    const { deletions } = await run(
      { snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }] },
      { expire: false },
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
  });

  it("deregisters an expired AMI of ours, then deletes its snapshots that are ours and expired", async () => {
    const { deletions, report } = await run(
      {
        images: [{ id: "ami-1", tags: EXPIRED("ami-1"), backing: ["snap-1", "snap-2"] }],
        snapshots: [
          { id: "snap-1", tags: EXPIRED("snap-1") },
          { id: "snap-2", tags: CURRENT("snap-2") },
        ],
      },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal(["ami-1", "snap-1"]);
    expect(report.expiry).to.deep.include({ amisDeregistered: 1, snapshotsDeleted: 1, keptInUse: 0 });
  });

  it("keeps an expired snapshot that a registered AMI still uses, and says why", async () => {
    const { deletions, report, lines } = await run(
      {
        images: [{ id: "ami-1", tags: CURRENT("ami-1"), backing: ["snap-1"] }],
        snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }],
      },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
    expect(report.expiry?.keptInUse).to.equal(1);
    expect(lines.find((l) => l.message.startsWith("kept expired snapshot"))).to.deep.include({
      id: "snap-1",
    });
  });

  it("sees disabled AMIs: they are tagged, and protect the snapshots behind them", async () => {
    const { deletions, report, ec2 } = await run(
      {
        images: [{ id: "ami-off", backing: ["snap-1"] }],
        snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }],
        disabledImages: ["ami-off"],
      },
      {},
      { ledger },
    );
    expect(ec2.sent("DescribeImagesCommand")[0]).to.deep.include({ IncludeDisabled: true });
    expect(deletions).to.deep.equal([]);
    expect(report.expiry?.keptInUse).to.equal(1);
    expect(report.amis.tagged).to.equal(1);
    expect(ec2.images.get("ami-off")).to.deep.include({ Key: "Retention", Value: "90days" });
  });

  it("keeps the snapshots of an AMI it is not managing: every registered AMI protects its snapshots", async () => {
    const { deletions } = await run(
      {
        images: [{ id: "ami-1", tags: CURRENT("ami-1"), backing: ["snap-1"] }],
        snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }],
      },
      { manageAmis: false },
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
  });

  it("never deletes what is not ours, excluded, or first dated in this very run", async () => {
    const { deletions } = await run(
      {
        snapshots: [
          {
            id: "snap-a",
            tags: [
              { Key: "Retention", Value: "keep" },
              { Key: "DeleteOn", Value: "2020-01-01" },
            ],
          },
          { id: "snap-b", tags: [{ Key: "DeleteOn", Value: "2020-01-01" }] },
          { id: "snap-c", tags: [...EXPIRED("snap-c"), { Key: "Env", Value: "dev" }] },
          { id: "snap-d", tags: dated(ledger, ["snap-d"], "2020-01-01", "30days") },
          { id: "snap-e", tags: [] },
        ],
      },
      { excludeTags: { Env: "dev" }, deleteOnFrom: "creation" },
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
  });

  it("never deletes a backup whose tags were written by hand: no proof, counted and logged once", async () => {
    const hand = ours("2020-01-01");
    const { deletions, report, lines } = await run(
      { snapshots: [{ id: "snap-hand", tags: hand }], images: [{ id: "ami-hand", tags: hand }] },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
    expect(report.snapshots.unproven).to.equal(1);
    expect(report.amis.unproven).to.equal(1);
    const warnings = lines.filter((l) =>
      l.message.startsWith("backups carry our Retention and DeleteOn without proof"),
    );
    expect(warnings).to.have.length(1);
    expect(warnings[0].examples).to.have.members(["snap-hand", "ami-hand"]);
  });

  it("logs unproven backups once a run, with at most 10 examples and the exact counts", async () => {
    const snapshots = Array.from({ length: 15 }, (_, i) => ({ id: `snap-${i}`, tags: ours("2020-01-01") }));
    const { deletions, report, lines } = await run({ snapshots }, {}, { ledger });
    expect(deletions).to.deep.equal([]);
    expect(report.snapshots.unproven).to.equal(15);
    const warnings = lines.filter((l) =>
      l.message.startsWith("backups carry our Retention and DeleteOn without proof"),
    );
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.deep.include({ amis: 0, snapshots: 15 });
    expect(warnings[0].examples).to.have.length(10);
  });

  it("never deletes a resource carrying tags copied, proof tag and all, from a legitimately dated backup", async () => {
    const legit = EXPIRED("snap-legit");
    const { deletions, report } = await run(
      {
        snapshots: [
          { id: "snap-legit", tags: legit },
          { id: "snap-victim", tags: legit.map((t) => ({ ...t })) },
        ],
      },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal(["snap-legit"]);
    expect(report.snapshots.unproven).to.equal(1);
  });

  it("never deletes a resource whose DeleteOn was moved earlier by hand after we dated it", async () => {
    const tags = CURRENT("snap-1").map((t) => (t.Key === "DeleteOn" ? { ...t, Value: "2020-01-01" } : t));
    const { deletions } = await run({ snapshots: [{ id: "snap-1", tags }] }, {}, { ledger });
    expect(deletions).to.deep.equal([]);
  });

  it("does not record a date re-anchored from hand-written tags, so it never expires", async () => {
    const hand = ours("2026-10-01", "30days");
    const first = await run({ snapshots: [{ id: "snap-1", tags: hand }] }, {}, { ledger });
    const written = first.ec2.snapshots.get("snap-1") as Tag[];
    expect(written).to.deep.include({ Key: "Retention", Value: "90days" });
    expect(written.some((t) => t.Key === "RetentionBatch")).to.be.false;
    expect(ledger.writes).to.equal(0);
    expect(first.report.snapshots.unproven).to.equal(1);
  });

  it("records a date re-anchored from proven tags, so it stays deletable", async () => {
    // Dated under 30 days on 2026-06-01: DeleteOn 2026-07-01; under 90 days, 2026-08-30, long past.
    const tags = dated(ledger, ["snap-1"], "2026-07-01", "30days");
    const first = await run({ snapshots: [{ id: "snap-1", tags }] }, {}, { ledger });
    const written = first.ec2.snapshots.get("snap-1") as Tag[];
    expect(written).to.deep.include({ Key: "DeleteOn", Value: "2026-08-30" });
    const batch = written.find((t) => t.Key === "RetentionBatch")?.Value as string;
    expect(ledger.entries.get(batch)).to.deep.include({ retention: "90days", deleteOn: "2026-08-30" });
    const second = await run({ snapshots: [{ id: "snap-1", tags: written }] }, {}, { ledger });
    expect(second.deletions).to.deep.equal(["snap-1"]);
  });

  it("never deletes a backup dated 9999-12-31, with grace 0 or 1", async () => {
    for (const grace of [0, 1]) {
      const { deletions, report } = await run(
        { snapshots: [{ id: "snap-far", tags: dated(ledger, ["snap-far"], MAX_DATE) }] },
        { expireGraceDays: grace },
        { ledger },
      );
      expect(deletions, `grace ${grace}`).to.deep.equal([]);
      expect(report.snapshots.unchanged).to.equal(1);
    }
  });

  it("re-reads tags just before deleting, and skips a backup changed since it was listed", async () => {
    const snapshots: FakeResource[] = [
      { id: "snap-moved", tags: EXPIRED("snap-moved") },
      { id: "snap-kept", tags: EXPIRED("snap-kept") },
      { id: "snap-gone", tags: EXPIRED("snap-gone") },
    ];
    let listed = false;
    const { deletions, report, ec2, lines } = await run(
      {
        snapshots,
        beforeCommand: (name, input, account) => {
          // The listing and the due query are done (the re-read by ID is next); someone moves one
          // backup a year ahead and deletes another.
          const byId =
            input.Filters?.[0]?.Name === "snapshot-id" && !/[*?]/.test(input.Filters[0].Values.join());
          if (name === "DescribeSnapshotsCommand" && byId && !listed) {
            listed = true;
            account.snapshots.set("snap-moved", [
              { Key: "Retention", Value: "365days" },
              { Key: "DeleteOn", Value: "2027-10-01" },
              ...(account.snapshots.get("snap-moved") as Tag[]).filter((t) => t.Key === "RetentionBatch"),
            ]);
            account.snapshots.delete("snap-gone");
          }
        },
      },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal(["snap-kept"]);
    expect(report.expiry).to.deep.include({ snapshotsDeleted: 1, skippedChanged: 2 });
    const fresh = ec2
      .sent("DescribeSnapshotsCommand")
      .filter((input) => input.Filters?.[0]?.Values?.includes("snap-kept"));
    expect(fresh[0].Filters[0]).to.deep.equal({
      Name: "snapshot-id",
      Values: ["snap-moved", "snap-kept", "snap-gone"],
    });
    expect(
      lines.find((l) => l.id === "snap-moved" && l.message.startsWith("not deleted"))?.reason,
    ).to.include("Retention=365days");
  });

  it("re-reads the candidates by ID filter, at most 200 IDs a call, before deleting them", async () => {
    const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    const [amiIds, snapIds] = [ids("ami", 250), ids("snap", 450)];
    const amiTags = EXPIRED(...amiIds);
    const snapTags = EXPIRED(...snapIds);
    const { deletions, ec2 } = await run(
      {
        images: amiIds.map((id) => ({ id, tags: amiTags })),
        snapshots: snapIds.map((id) => ({ id, tags: snapTags })),
      },
      { maxDeletionsPerRun: 1000 },
      { ledger },
    );
    expect(deletions).to.have.length(700);
    const reads = (command: "DescribeImagesCommand" | "DescribeSnapshotsCommand", filter: string) =>
      ec2
        .sent(command)
        .filter((input) => input.Filters?.[0]?.Name === filter)
        .map((input) => input.Filters[0].Values.length);
    expect(reads("DescribeImagesCommand", "image-id")).to.deep.equal([200, 50]);
    expect(reads("DescribeSnapshotsCommand", "snapshot-id")).to.deep.equal([200, 200, 50]);
  });

  it("refuses on fresh tags and proof alone: the pure re-qualification", () => {
    const entry = {
      batchId: "b1",
      scope: "us-east-1",
      retention: "90days",
      deleteOn: "2026-10-01",
      ids: new Set(["snap-1"]),
    };
    const lookup = (id: string) => (id === "b1" ? entry : null);
    const settings = { graceDays: 1, retentionDays: 90, includeTags: {}, excludeTags: { Keep: "*" } };
    const tags = [...ours("2026-10-01"), { Key: "RetentionBatch", Value: "b1" }];
    const refuse = (id: string, t: Tag[], scope = "us-east-1") =>
      expiryRefusal({ id, tags: t }, TODAY, settings, lookup, scope);
    expect(refuse("snap-1", tags)).to.equal(undefined);
    expect(refuse("snap-2", tags)).to.match(/no proof/);
    expect(refuse("snap-1", tags, "eu-west-1")).to.match(/no proof/);
    expect(refuse("snap-1", [...tags, { Key: "Keep", Value: "" }])).to.match(/excludeTags/);
    expect(
      refuse(
        "snap-1",
        tags.map((t) => (t.Key === "Retention" ? { ...t, Value: "365days" } : t)),
      ),
    ).to.match(/Retention=365days/);
    expect(
      refuse(
        "snap-1",
        tags.map((t) => (t.Key === "RetentionBatch" ? { ...t, Value: "b2" } : t)),
      ),
    ).to.match(/no proof/);
  });

  it("deletes nothing and defers re-anchoring while the ledger cannot be read", async () => {
    const proven = EXPIRED("snap-1");
    const reanchor = dated(ledger, ["snap-2"], "2026-12-01", "30days");
    ledger.failReads = true;
    const { deletions, report, ec2 } = await run(
      {
        snapshots: [
          { id: "snap-1", tags: proven },
          { id: "snap-2", tags: reanchor },
        ],
      },
      {},
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
    expect(ec2.snapshots.get("snap-2")).to.deep.equal(reanchor);
    expect(report.failures).to.deep.include({
      id: "snap-2",
      code: "LedgerUnavailable",
      message: "re-anchoring needs the ledger entry, which could not be read",
    });
  });

  it("deletes nothing without a ledger: nothing can be proven", async () => {
    const { deletions, report } = await run({ snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }] });
    expect(deletions).to.deep.equal([]);
    expect(report.expiry).to.equal(undefined);
  });

  it("adopts hand tags as ours only when asked, then deletes them on a later run", async () => {
    const hand = ours("2026-10-01");
    const first = await run(
      { snapshots: [{ id: "snap-1", tags: hand }] },
      { adoptUnprovenTags: true },
      { ledger },
    );
    expect(first.deletions).to.deep.equal([]);
    expect(first.report.snapshots.adopted).to.equal(1);
    const written = first.ec2.snapshots.get("snap-1") as Tag[];
    expect(written.find((t) => t.Key === "DeleteOn")?.Value).to.equal("2026-10-01");
    const second = await run({ snapshots: [{ id: "snap-1", tags: written }] }, {}, { ledger });
    expect(second.deletions).to.deep.equal(["snap-1"]);
  });

  it("in a dry run, reports what it would delete and deletes nothing", async () => {
    const { deletions, report, lines } = await run(
      { snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }] },
      { dryRun: true },
      { ledger },
    );
    expect(deletions).to.deep.equal([]);
    expect(report.expiry?.snapshotsDeleted).to.equal(1);
    expect(lines.some((l) => l.message === "dry run: would delete expired snapshot" && l.id === "snap-1")).to
      .be.true;
  });

  it("stops at maxDeletionsPerRun with a warning", async () => {
    const snapshots = Array.from({ length: 5 }, (_, i) => ({ id: `snap-${i}`, tags: EXPIRED(`snap-${i}`) }));
    const { deletions, report, lines } = await run({ snapshots }, { maxDeletionsPerRun: 2 }, { ledger });
    expect(deletions).to.have.length(2);
    expect(report.expiry?.capped).to.be.true;
    expect(lines.some((l) => l.level === "WARN" && l.message.startsWith("stopped at maxDeletionsPerRun (2)")))
      .to.be.true;
  });

  it("waits expireGraceDays past DeleteOn", async () => {
    const yesterday = () => [{ id: "snap-1", tags: dated(ledger, ["snap-1"], "2026-11-28") }];
    expect((await run({ snapshots: yesterday() }, {}, { ledger })).deletions).to.deep.equal([]);
    expect(
      (await run({ snapshots: yesterday() }, { expireGraceDays: 0 }, { ledger })).deletions,
    ).to.deep.equal(["snap-1"]);
  });

  it("reports a deletion EC2 refuses and goes on with the rest", async () => {
    const { report, ec2 } = await run(
      {
        snapshots: [
          { id: "snap-1", tags: EXPIRED("snap-1") },
          { id: "snap-2", tags: EXPIRED("snap-2") },
        ],
        // In use by something the listing cannot see (an AMI in the middle of registration, say).
        refuseDeletion: { "snap-1": "InvalidSnapshot.InUse" },
      },
      {},
      { ledger },
    );
    expect(report.expiry).to.deep.include({ snapshotsDeleted: 1, deletionFailures: 1 });
    expect(report.expiry?.failures).to.deep.equal([
      { id: "snap-1", code: "InvalidSnapshot.InUse", message: "refused for snap-1" },
    ]);
    expect(ec2.snapshots.has("snap-2")).to.be.false;
  });

  it("does not expire anything when the tagging pass stopped early", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1", tags: EXPIRED("snap-1") }] });
    const { log } = recordingLogger();
    const report = await tagBackups(
      { ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 0, ledger },
      EXPIRE,
    );
    expect(report.complete).to.be.false;
    expect(report.expiry).to.equal(undefined);
    expect(ec2.sent("DeleteSnapshotCommand")).to.deep.equal([]);
  });
});
