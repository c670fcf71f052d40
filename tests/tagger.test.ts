import { expect } from "chai";
import sinon from "sinon";
import { tagBackups, type TaggerPorts, type TaggerSettings } from "../handler/tagger";
import * as tagPolicy from "../handler/tagPolicy";
import type { Tag } from "../handler/tagPolicy";
import { SEQUENTIAL } from "../handler/tuning";
import { MemoryLedger } from "../local/memoryLedger";
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
  ports: Partial<TaggerPorts> = {},
) {
  const { log, lines } = recordingLogger();
  const report = tagBackups(
    { ec2: ec2.client, clock: () => NOW, log, remainingMs, ...ports },
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
    // One paginator over everything: the sweep's partitions are tested in pipeline.test.ts.
    const { report } = run(ec2, { tuning: SEQUENTIAL });
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
    // Existence checks name IDs; the sweep's listings use wildcards.
    const checks = ec2
      .sent("DescribeSnapshotsCommand")
      .filter((input) => input.Filters && !input.Filters[0].Values[0].includes("*"));
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
    // Kinds one after the other, so "the AMIs first" is well defined.
    const result = await run(ec2, { tuning: SEQUENTIAL }, remaining).report;
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
    // Kinds are listed at once: the order of their writes is not part of the contract.
    expect(writes.map((w) => [w.Resources[0], w.Tags[1].Value]).sort()).to.deep.equal([
      ["ami-1", "2026-04-01"],
      ["snap-1", "2026-01-30"],
    ]);
  });

  it("throws when listing fails for a reason other than time, throttling or a stall, so Lambda records an error", async () => {
    const ec2 = stubEc2();
    ec2.send.rejects(Object.assign(new Error("not authorized"), { name: "UnauthorizedOperation" }));
    let thrown: Error | undefined;
    await run(ec2).report.catch((error: Error) => (thrown = error));
    expect(thrown?.message).to.equal("not authorized");
  });

  it("stops with complete: false and says why when listing is throttled, timed out or unavailable", async () => {
    const cases: [Error, RegExp][] = [
      [
        Object.assign(new Error("Rate exceeded"), { name: "RequestLimitExceeded" }),
        /^throttled: RequestLimitExceeded/,
      ],
      [Object.assign(new Error("no answer in 5000 ms"), { name: "TimeoutError" }), /^timeout: /],
      [
        Object.assign(new Error("Service Unavailable"), {
          name: "Unavailable",
          $metadata: { httpStatusCode: 503 },
        }),
        /^unavailable: /,
      ],
      [Object.assign(new Error("Request aborted"), { name: "AbortError" }), /^time: /],
    ];
    for (const [error, reason] of cases) {
      const ec2 = stubEc2();
      ec2.send.rejects(error);
      const { report, lines } = run(ec2);
      const result = await report;
      expect(result.complete, error.name).to.be.false;
      expect(result.stopReason, error.name).to.match(reason);
      expect(lines.find((l) => l.level === "WARN")?.message, error.name).to.match(/^stopping early: /);
    }
  });

  it("counts writes cut by the deadline as not reached, not as failures", async () => {
    const ec2 = stubEc2({
      snapshots: manyResources("snap", 3),
      beforeCommand: (name) => {
        if (name === "CreateTagsCommand") {
          throw Object.assign(new Error("Request aborted"), { name: "AbortError" });
        }
      },
    });
    const result = await run(ec2).report;
    expect(ec2.sent("DescribeSnapshotsCommand")).to.have.length(1);
    expect(result.snapshots.listed).to.equal(3);
    expect(result.failureCount).to.equal(0);
    expect(result.complete).to.be.false;
    expect(result.stopReason).to.match(/^time: /);
  });

  describe("proof of authorship", () => {
    it("records each dating batch in the ledger before its CreateTags, one entry per call, and tags the batch ID", async () => {
      const ledger = new MemoryLedger("us-east-1");
      const ec2 = stubEc2({ snapshots: manyResources("snap", 2500) });
      const result = await run(ec2, {}, undefined, { ledger }).report;
      const calls = ec2.sent("CreateTagsCommand");
      expect(calls).to.have.length(3);
      expect(ledger.writes).to.equal(3);
      expect(result.ledgerWrites).to.equal(3);
      for (const call of calls) {
        const batch = call.Tags.find((t: Tag) => t.Key === "RetentionBatch")?.Value;
        const entry = ledger.entries.get(batch);
        expect(entry).to.deep.include({ scope: "us-east-1", retention: "90days", deleteOn: "2027-02-27" });
        expect(call.Resources.every((id: string) => entry?.ids.has(id))).to.be.true;
      }
    });

    it("writes nothing to the ledger or EC2 in a dry run", async () => {
      const ledger = new MemoryLedger();
      const ec2 = stubEc2({ snapshots: manyResources("snap", 3) });
      await run(ec2, { dryRun: true }, undefined, { ledger }).report;
      expect(ledger.writes).to.equal(0);
      expect(ec2.sent("CreateTagsCommand")).to.have.length(0);
    });

    it("writes no tags for a batch the ledger refused: each resource fails and the next run retries", async () => {
      const ledger = new MemoryLedger();
      ledger.failWrites = true;
      const ec2 = stubEc2({ snapshots: manyResources("snap", 3) });
      const result = await run(ec2, {}, undefined, { ledger }).report;
      expect(ec2.sent("CreateTagsCommand")).to.have.length(0);
      expect(result.failureCount).to.equal(3);
      expect(result.failures[0]).to.deep.include({ code: "LedgerWriteFailed" });
      ledger.failWrites = false;
      const retry = await run(ec2, {}, undefined, { ledger }).report;
      expect(retry.snapshots.tagged).to.equal(3);
    });

    it("a steady-state run reads the ledger once per page and writes nothing", async () => {
      const ledger = new MemoryLedger();
      const ec2 = stubEc2({ snapshots: manyResources("snap", 1500) });
      await run(ec2, {}, undefined, { ledger }).report;
      const [writes, creates] = [ledger.writes, ec2.sent("CreateTagsCommand").length];
      ledger.reads = 0;
      const steady = await run(ec2, {}, undefined, { ledger }).report;
      expect(ledger.writes).to.equal(writes);
      expect(ec2.sent("CreateTagsCommand")).to.have.length(creates);
      expect(steady.snapshots).to.deep.include({ unchanged: 1500, unproven: 0 });
      expect(ledger.reads).to.equal(2);
    });
  });

  describe("one resource never stops the run", () => {
    afterEach(() => sinon.restore());

    it("a decision that throws fails that resource alone, with its ID and a code, and the rest are tagged", async () => {
      const ec2 = stubEc2({ snapshots: manyResources("snap", 5) });
      const decide: typeof tagPolicy.decideTags = (tags, settings, today, createdOn, context) => {
        if (tags?.length === 0 && decideCalls++ === 2) {
          throw new TypeError("Cannot read properties of undefined (reading 'Value')");
        }
        return tagPolicy.decideTags(tags, settings, today, createdOn, context);
      };
      let decideCalls = 0;
      const { report, lines } = run(ec2, {}, undefined, { decide });
      const result = await report;
      expect(result.complete).to.be.true;
      expect(result.snapshots).to.deep.include({ listed: 5, tagged: 4, failed: 1 });
      expect(result.failures).to.deep.equal([
        {
          id: "snap-00000002",
          code: "ResourceFailed",
          message: "TypeError: Cannot read properties of undefined (reading 'Value')",
        },
      ]);
      expect(lines.find((l) => l.level === "ERROR")).to.deep.include({ id: "snap-00000002", tags: [] });
    });

    it("the module's own decision, stubbed to throw for one resource, is caught the same way", async () => {
      const real = tagPolicy.decideTags;
      sinon.stub(tagPolicy, "decideTags").callsFake((tags, ...rest) => {
        if (tags?.some((t) => t.Value === "boom")) {
          throw new Error("boom");
        }
        return real(tags, ...rest);
      });
      const ec2 = stubEc2({
        snapshots: [{ id: "snap-1", tags: [{ Key: "Name", Value: "boom" }] }, { id: "snap-2" }],
      });
      const result = await run(ec2).report;
      expect(result.snapshots).to.deep.include({ tagged: 1, failed: 1 });
      expect(result.failures[0]).to.deep.include({ id: "snap-1", code: "ResourceFailed" });
    });

    it("a year-0100 DeleteOn under another retention is repaired, and its neighbours are still tagged", async () => {
      const ec2 = stubEc2({
        snapshots: [
          {
            id: "snap-old",
            tags: [
              { Key: "Retention", Value: "90days" },
              { Key: "DeleteOn", Value: "0100-03-01" },
            ],
          },
          { id: "snap-new" },
        ],
      });
      const result = await run(ec2, { retentionDays: 30 }).report;
      expect(result.complete).to.be.true;
      expect(result.failureCount).to.equal(0);
      expect(ec2.snapshots.get("snap-new")).to.deep.include({ Key: "DeleteOn", Value: "2026-12-29" });
      expect(ec2.snapshots.get("snap-old")).to.deep.include({ Key: "DeleteOn", Value: "2026-12-29" });
    });

    it("takes strange tags in its stride: a missing value, a missing key, 9999-12-31", async () => {
      const ec2 = stubEc2();
      ec2.send.callsFake(async (command: { constructor: { name: string } }) => {
        switch (command.constructor.name) {
          case "DescribeImagesCommand":
            return { Images: [{ ImageId: "ami-1", Tags: [{ Key: "Retention" }, { Value: "x" }] }] };
          case "DescribeSnapshotsCommand":
            return {
              Snapshots: [
                {
                  SnapshotId: "snap-1",
                  Tags: [
                    { Key: "Retention", Value: "90days" },
                    { Key: "DeleteOn", Value: "9999-12-31" },
                  ],
                },
                { SnapshotId: undefined, Tags: [] },
              ],
            };
          default:
            return {};
        }
      });
      const result = await run(ec2).report;
      expect(result.complete).to.be.true;
      expect(result.amis).to.deep.include({ skipped: 1 });
      expect(result.snapshots).to.deep.include({ unchanged: 1, failed: 1 });
      expect(result.failures[0]).to.deep.include({ id: "(no id)", code: "ResourceFailed" });
    });
  });

  describe("notice of backups falling due", () => {
    const dueIn = (ledger: MemoryLedger, ids: string[], deleteOn: string): Tag[] => {
      const batchId = `b-${deleteOn}`;
      ledger.entries.set(batchId, {
        batchId,
        scope: ledger.scope,
        retention: "90days",
        deleteOn,
        ids: new Set(ids),
      });
      return [
        ...OURS.filter((t) => t.Key === "Retention"),
        { Key: "DeleteOn", Value: deleteOn },
        { Key: "RetentionBatch", Value: batchId },
      ];
    };

    it("counts proven backups due within the window and sends one message listing at most 50", async () => {
      const ledger = new MemoryLedger();
      const soon = manyResources("snap", 60).map((r) => r.id);
      const snapshots = [
        ...soon.map((id) => ({ id, tags: dueIn(ledger, soon, "2026-12-02") })),
        { id: "snap-later", tags: dueIn(ledger, ["snap-later"], "2027-01-15") },
        {
          id: "snap-hand",
          tags: [
            { Key: "Retention", Value: "90days" },
            { Key: "DeleteOn", Value: "2026-12-02" },
          ],
        },
      ];
      const messages: { subject: string; body: string }[] = [];
      const notify = async (subject: string, body: string) => void messages.push({ subject, body });
      const ec2 = stubEc2({ snapshots });
      const result = await run(ec2, { expire: true, expireNoticeDays: 7 }, undefined, { ledger, notify })
        .report;
      expect(result.notice).to.deep.include({
        snapshotsDueSoon: 60,
        newlyDue: 60,
        sent: true,
        through: "2026-12-06",
      });
      expect(result.notice?.examples).to.have.length(50);
      expect(messages).to.have.length(1);
      expect(messages[0].subject).to.equal("60 EC2 backups due for deletion in us-east-1");
      expect(messages[0].body).to.include("snap-00000000  DeleteOn=2026-12-02  deletable from 2026-12-04");
      expect(messages[0].body).to.include("... and 10 more");
      expect(messages[0].body).not.to.include("snap-hand");

      // The next day: the same backups are not announced again.
      const again = await run(ec2, { expire: true, expireNoticeDays: 7 }, undefined, { ledger, notify })
        .report;
      expect(again.notice).to.deep.include({ snapshotsDueSoon: 60, newlyDue: 0, sent: false });
      expect(messages).to.have.length(1);
    });

    it("sends nothing without expiry, in a dry run, or with expireNoticeDays 0", async () => {
      const ledger = new MemoryLedger();
      const messages: string[] = [];
      const notify = async (subject: string) => void messages.push(subject);
      const snapshots = [{ id: "snap-1", tags: dueIn(ledger, ["snap-1"], "2026-12-02") }];
      for (const settings of [
        { expire: false },
        { expire: true, dryRun: true },
        { expire: true, expireNoticeDays: 0 },
      ]) {
        await run(stubEc2({ snapshots }), settings, undefined, { ledger, notify }).report;
      }
      expect(messages).to.deep.equal([]);
    });
  });
});
