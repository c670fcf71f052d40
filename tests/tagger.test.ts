import { expect } from "chai";
import { tagBackups, type TaggerSettings } from "../handler/tagger";
import type { Tag } from "../handler/tagPolicy";
import { manyResources, recordingLogger, stubEc2 } from "./support/ec2Stub";

const NOW = new Date("2026-11-29T10:00:00Z");
const SETTINGS: TaggerSettings = { retentionDays: 90, extraTags: {}, dryRun: false, safetyMarginMs: 1000 };
const OURS: Tag[] = [
  { Key: "Retention", Value: "90days" },
  { Key: "DeleteOn", Value: "2027-01-15" },
];

function run(
  ec2: ReturnType<typeof stubEc2>,
  settings: Partial<TaggerSettings> = {},
  remainingMs = () => 600_000,
) {
  const { log, lines } = recordingLogger();
  const report = tagBackups(
    { ec2: ec2.client, clock: () => NOW, log, remainingMs },
    { ...SETTINGS, ...settings },
  );
  return { report, lines };
}

describe("tagger against a stubbed EC2 client", () => {
  it("lists only the account's own AMIs and snapshots, 1000 per page", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 5), snapshots: manyResources("snap", 5) });
    await run(ec2).report;
    expect(ec2.sent("DescribeImagesCommand")[0]).to.deep.include({ Owners: ["self"], MaxResults: 1000 });
    expect(ec2.sent("DescribeSnapshotsCommand")[0]).to.deep.include({ OwnerIds: ["self"], MaxResults: 1000 });
  });

  it("follows NextToken through every page", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 1500), snapshots: manyResources("snap", 3001) });
    const { report } = run(ec2);
    const result = await report;
    expect(ec2.sent("DescribeImagesCommand")).to.have.length(2);
    expect(ec2.sent("DescribeSnapshotsCommand").map((input) => input.NextToken)).to.deep.equal([
      undefined,
      "1000",
      "2000",
      "3000",
    ]);
    expect(result.amis.listed).to.equal(1500);
    expect(result.snapshots.listed).to.equal(3001);
    expect(
      [...ec2.snapshots.values()].every((tags) =>
        tags.some((t) => t.Key === "DeleteOn" && t.Value === "2027-02-27"),
      ),
    ).to.be.true;
  });

  it("tags 3,001 new snapshots in 4 CreateTags calls, not 3,001", async () => {
    const ec2 = stubEc2({ snapshots: manyResources("snap", 3001) });
    const result = await run(ec2).report;
    const calls = ec2.sent("CreateTagsCommand");
    expect(calls.map((c) => c.Resources.length)).to.deep.equal([1000, 1000, 1000, 1]);
    expect(calls[0].Tags).to.deep.equal([
      { Key: "Retention", Value: "90days" },
      { Key: "DeleteOn", Value: "2027-02-27" },
    ]);
    expect(result.snapshots.tagged).to.equal(3001);
  });

  it("groups resources by the tag set they need", async () => {
    const under30: Tag[] = [
      { Key: "Retention", Value: "30days" },
      { Key: "DeleteOn", Value: "2026-12-20" },
    ];
    const ec2 = stubEc2({
      snapshots: [
        ...manyResources("snap", 3),
        { id: "snap-aaaa0001", tags: under30 },
        { id: "snap-aaaa0002", tags: under30 },
      ],
    });
    await run(ec2).report;
    const calls = ec2.sent("CreateTagsCommand");
    expect(calls).to.have.length(2);
    expect(calls.map((c) => c.Resources.length).sort()).to.deep.equal([2, 3]);
    expect(ec2.snapshots.get("snap-aaaa0001")).to.deep.include({ Key: "DeleteOn", Value: "2027-02-18" });
  });

  it("writes nothing on a second run over the same account", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 20), snapshots: manyResources("snap", 2000) });
    await run(ec2, { extraTags: { Owner: "infra" } }).report;
    const writesBefore = ec2.sent("CreateTagsCommand").length;
    const second = await run(ec2, { extraTags: { Owner: "infra" } }).report;
    expect(writesBefore).to.be.greaterThan(0);
    expect(ec2.sent("CreateTagsCommand")).to.have.length(writesBefore);
    expect(second.snapshots).to.deep.include({ planned: 0, tagged: 0, unchanged: 2000 });
  });

  it("counts resources tagged by someone else as skipped and never writes to them", async () => {
    const ec2 = stubEc2({
      snapshots: [
        { id: "snap-0000000a", tags: [{ Key: "Retention", Value: "keep" }] },
        { id: "snap-0000000b", tags: OURS },
      ],
    });
    const { report, lines } = run(ec2);
    const result = await report;
    expect(result.snapshots).to.deep.include({ skipped: 1, unchanged: 1, planned: 0 });
    expect(ec2.sent("CreateTagsCommand")).to.have.length(0);
    expect(lines.find((l) => l.message.startsWith("skipped"))).to.deep.include({ count: 1 });
  });

  it("tags the rest when a snapshot disappears between listing and tagging, and reports it", async () => {
    const snapshots = manyResources("snap", 1500);
    const goneId = snapshots[1200].id;
    const ec2 = stubEc2({ snapshots, gone: [goneId] });
    const result = await run(ec2).report;
    expect(result.snapshots).to.deep.include({ tagged: 1499, failed: 1 });
    expect(result.failures).to.deep.equal([
      { id: goneId, code: "InvalidSnapshot.NotFound", message: `The snapshot '${goneId}' does not exist.` },
    ]);
    expect(result.complete).to.be.true;
  });

  it("checks existence with filtered Describe calls of at most 200 IDs when several are gone", async () => {
    const snapshots = manyResources("snap", 1000);
    const gone = snapshots.filter((_, i) => i % 100 === 7).map((s) => s.id);
    const ec2 = stubEc2({ snapshots, gone });
    const result = await run(ec2).report;
    expect(result.snapshots).to.deep.include({ tagged: 990, failed: 10 });
    expect(ec2.sent("CreateTagsCommand")).to.have.length(2);
    const checks = ec2.sent("DescribeSnapshotsCommand").filter((input) => input.Filters);
    expect(checks.map((input) => input.Filters[0].Values.length)).to.deep.equal([200, 200, 200, 200, 200]);
    expect(checks[0]).to.deep.include({ OwnerIds: ["self"] });
    expect(checks[0].Filters[0].Name).to.equal("snapshot-id");
  });

  it("caps the listed failures but keeps the exact count", async () => {
    const snapshots = manyResources("snap", 80);
    const ec2 = stubEc2({ snapshots, gone: snapshots.map((s) => s.id) });
    const result = await run(ec2).report;
    expect(result.failureCount).to.equal(80);
    expect(result.failures).to.have.length(50);
  });

  it("in a dry run, sends no CreateTags and reports what it would do", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 3), snapshots: manyResources("snap", 7) });
    const result = await run(ec2, { dryRun: true }).report;
    expect(ec2.sent("CreateTagsCommand")).to.have.length(0);
    expect(result).to.deep.include({ dryRun: true, complete: true });
    expect(result.amis).to.deep.include({ planned: 3, tagged: 3 });
    expect([...ec2.snapshots.values()].every((tags) => tags.length === 0)).to.be.true;
  });

  it("stops starting work when the time left falls below the margin, and reports an incomplete run", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 10), snapshots: manyResources("snap", 3000) });
    // Plenty of time for the AMIs and the first snapshot page, then none.
    const remaining = () => (ec2.sent("DescribeSnapshotsCommand").length >= 1 ? 500 : 600_000);
    const result = await run(ec2, {}, remaining).report;
    expect(result.complete).to.be.false;
    expect(ec2.sent("DescribeSnapshotsCommand")).to.have.length(1);
    expect(
      ec2
        .sent("CreateTagsCommand")
        .flatMap((c) => c.Resources)
        .filter((id: string) => id.startsWith("snap-")),
    ).to.have.length(0);
    expect(result.amis.tagged).to.equal(10);
  });

  it("finishes on the next run what an incomplete run left", async () => {
    const ec2 = stubEc2({ snapshots: manyResources("snap", 3000) });
    let checks = 0;
    const first = await run(ec2, {}, () => (checks++ < 2 ? 600_000 : 0)).report;
    expect(first.complete).to.be.false;
    const second = await run(ec2).report;
    expect(second.complete).to.be.true;
    expect([...ec2.snapshots.values()].every((tags) => tags.length === 2)).to.be.true;
  });

  it("leaves excluded resources alone and counts them", async () => {
    const ec2 = stubEc2({
      snapshots: [
        { id: "snap-0000000a", tags: [{ Key: "Env", Value: "dev" }] },
        { id: "snap-0000000b", tags: [{ Key: "Env", Value: "prod" }] },
      ],
    });
    const result = await run(ec2, { excludeTags: { Env: "dev" } }).report;
    expect(result.snapshots).to.deep.include({ excluded: 1, tagged: 1 });
    expect(ec2.sent("CreateTagsCommand").flatMap((c) => c.Resources)).to.deep.equal(["snap-0000000b"]);
  });

  it("skips a kind switched off without listing it", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 3), snapshots: manyResources("snap", 3) });
    const result = await run(ec2, { manageAmis: false }).report;
    expect(ec2.sent("DescribeImagesCommand")).to.have.length(0);
    expect(result.amis.listed).to.equal(0);
    expect(result.snapshots.tagged).to.equal(3);
  });

  it("anchors on CreationDate and StartTime, in UTC, under deleteOnFrom creation", async () => {
    const ec2 = stubEc2({ images: manyResources("ami", 1), snapshots: manyResources("snap", 1) });
    ec2.send.callsFake(async (command: { constructor: { name: string }; input: unknown }) => {
      switch (command.constructor.name) {
        case "DescribeImagesCommand":
          return { Images: [{ ImageId: "ami-1", CreationDate: "2026-03-01T23:30:00.000-05:00" }] };
        case "DescribeSnapshotsCommand":
          return { Snapshots: [{ SnapshotId: "snap-1", StartTime: new Date("2025-12-31T23:59:59Z") }] };
        default:
          return {};
      }
    });
    await run(ec2, { deleteOnFrom: "creation", retentionDays: 30 }).report;
    const writes = ec2.send
      .getCalls()
      .filter((c) => c.args[0].constructor.name === "CreateTagsCommand")
      .map((c) => c.args[0].input);
    expect(writes.map((w) => [w.Resources[0], w.Tags[1].Value])).to.deep.equal([
      ["ami-1", "2026-04-01"],
      ["snap-1", "2026-01-30"],
    ]);
  });

  it("throws when listing fails, so Lambda records an error", async () => {
    const ec2 = stubEc2();
    ec2.send.rejects(Object.assign(new Error("Rate exceeded"), { name: "RequestLimitExceeded" }));
    await run(ec2)
      .report.then(() => expect.fail("expected a rejection"))
      .catch((error: Error) => expect(error.message).to.equal("Rate exceeded"));
  });
});
