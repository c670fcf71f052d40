import { expect } from "chai";
import { isExpired } from "../handler/expiry";
import { tagBackups, type TaggerSettings } from "../handler/tagger";
import type { Tag } from "../handler/tagPolicy";
import { recordingLogger, stubEc2, type FakeResource } from "./support/ec2Stub";

const NOW = new Date("2026-11-29T10:00:00Z");
const EXPIRE: TaggerSettings = {
  retentionDays: 90,
  extraTags: {},
  dryRun: false,
  safetyMarginMs: 1000,
  expire: true,
  expireGraceDays: 1,
  maxDeletionsPerRun: 50,
};
const ours = (deleteOn: string): Tag[] => [
  { Key: "Retention", Value: "90days" },
  { Key: "DeleteOn", Value: deleteOn },
];
const EXPIRED = ours("2026-10-01");
const CURRENT = ours("2027-01-15");

async function run(
  resources: { images?: FakeResource[]; snapshots?: FakeResource[] },
  settings: Partial<TaggerSettings> = {},
) {
  const ec2 = stubEc2(resources);
  const { log, lines } = recordingLogger();
  const report = await tagBackups(
    { ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 600_000 },
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
  it("counts a backup as expired only once DeleteOn plus the grace days is before today", () => {
    expect(isExpired("2026-11-27", "2026-11-29", 1)).to.be.true;
    expect(isExpired("2026-11-28", "2026-11-29", 1)).to.be.false;
    expect(isExpired("2026-11-28", "2026-11-29", 0)).to.be.true;
    expect(isExpired("2026-11-29", "2026-11-29", 0)).to.be.false;
    expect(isExpired("soon", "2026-11-29", 0)).to.be.false;
  });

  it("is off unless switched on: nothing is deleted by default", async () => {
    const { deletions } = await run({ snapshots: [{ id: "snap-1", tags: EXPIRED }] }, { expire: false });
    expect(deletions).to.deep.equal([]);
  });

  it("deregisters an expired AMI of ours, then deletes its snapshots that are ours and expired", async () => {
    const { deletions, report } = await run({
      images: [{ id: "ami-1", tags: EXPIRED, backing: ["snap-1", "snap-2"] }],
      snapshots: [
        { id: "snap-1", tags: EXPIRED },
        { id: "snap-2", tags: CURRENT },
      ],
    });
    expect(deletions).to.deep.equal(["ami-1", "snap-1"]);
    expect(report.expiry).to.deep.include({ amisDeregistered: 1, snapshotsDeleted: 1, keptInUse: 0 });
  });

  it("keeps an expired snapshot that a registered AMI still uses, and says why", async () => {
    const { deletions, report, lines } = await run({
      images: [{ id: "ami-1", tags: CURRENT, backing: ["snap-1"] }],
      snapshots: [{ id: "snap-1", tags: EXPIRED }],
    });
    expect(deletions).to.deep.equal([]);
    expect(report.expiry?.keptInUse).to.equal(1);
    expect(lines.find((l) => l.message.startsWith("kept expired snapshot"))).to.deep.include({
      id: "snap-1",
    });
  });

  it("keeps the snapshots of an AMI it is not managing: every registered AMI protects its snapshots", async () => {
    const { deletions } = await run(
      {
        images: [{ id: "ami-1", tags: CURRENT, backing: ["snap-1"] }],
        snapshots: [{ id: "snap-1", tags: EXPIRED }],
      },
      { manageAmis: false },
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
          { id: "snap-c", tags: [...EXPIRED, { Key: "Env", Value: "dev" }] },
          {
            id: "snap-d",
            tags: [
              { Key: "Retention", Value: "30days" },
              { Key: "DeleteOn", Value: "2020-01-01" },
            ],
          },
          { id: "snap-e", tags: [] },
        ],
      },
      { excludeTags: { Env: "dev" }, deleteOnFrom: "creation" },
    );
    expect(deletions).to.deep.equal([]);
  });

  it("in a dry run, reports what it would delete and deletes nothing", async () => {
    const { deletions, report, lines } = await run(
      { snapshots: [{ id: "snap-1", tags: EXPIRED }] },
      { dryRun: true },
    );
    expect(deletions).to.deep.equal([]);
    expect(report.expiry?.snapshotsDeleted).to.equal(1);
    expect(lines.some((l) => l.message === "dry run: would delete expired snapshot" && l.id === "snap-1")).to
      .be.true;
  });

  it("stops at maxDeletionsPerRun with a warning", async () => {
    const snapshots = Array.from({ length: 5 }, (_, i) => ({ id: `snap-${i}`, tags: EXPIRED }));
    const { deletions, report, lines } = await run({ snapshots }, { maxDeletionsPerRun: 2 });
    expect(deletions).to.have.length(2);
    expect(report.expiry?.capped).to.be.true;
    expect(lines.some((l) => l.level === "WARN" && l.message.startsWith("stopped at maxDeletionsPerRun (2)")))
      .to.be.true;
  });

  it("waits expireGraceDays past DeleteOn", async () => {
    const yesterday = [{ id: "snap-1", tags: ours("2026-11-28") }];
    expect((await run({ snapshots: yesterday })).deletions).to.deep.equal([]);
    expect((await run({ snapshots: yesterday }, { expireGraceDays: 0 })).deletions).to.deep.equal(["snap-1"]);
  });

  it("reports a deletion EC2 refuses and goes on with the rest", async () => {
    const ec2 = stubEc2({
      snapshots: [
        { id: "snap-1", tags: EXPIRED },
        { id: "snap-2", tags: EXPIRED },
      ],
      // In use by something the listing cannot see (an AMI in the middle of registration, say).
      refuseDeletion: { "snap-1": "InvalidSnapshot.InUse" },
    });
    const { log } = recordingLogger();
    const report = await tagBackups(
      { ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 600_000 },
      EXPIRE,
    );
    expect(report.expiry).to.deep.include({ snapshotsDeleted: 1, deletionFailures: 1 });
    expect(report.expiry?.failures).to.deep.equal([
      { id: "snap-1", code: "InvalidSnapshot.InUse", message: "refused for snap-1" },
    ]);
    expect(ec2.snapshots.has("snap-2")).to.be.false;
  });

  it("does not expire anything when the tagging pass stopped early", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1", tags: EXPIRED }] });
    const { log } = recordingLogger();
    const report = await tagBackups({ ec2: ec2.client, clock: () => NOW, log, remainingMs: () => 0 }, EXPIRE);
    expect(report.complete).to.be.false;
    expect(report.expiry).to.equal(undefined);
    expect(ec2.sent("DeleteSnapshotCommand")).to.deep.equal([]);
  });
});
