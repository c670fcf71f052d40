// The embedded emulator's EC2, through the real SDK over HTTP: what the tagger, the demo and the
// seeding rely on, with EC2's answers. moto is the independent check of the same calls
// (tests/conformance.test.ts); these pin the semantics moto does not have or the tagger depends on.
import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DisableImageCommand,
  EC2Client,
  paginateDescribeSnapshots,
  type Filter,
} from "@aws-sdk/client-ec2";
import { expect } from "chai";
import { startEmbedded, type EmbeddedEmulator } from "../local/emulator/server";
import { createImage, createSnapshot, emulatorClient } from "../local/seedAccount";

/** The error an EC2 call ends with (its code in `name`), or "no error". */
async function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "no error",
    (error: Error) => `${error.name}: ${error.message}`,
  );
}

describe("the embedded emulator's EC2", function () {
  this.timeout(60_000);
  let emulator: EmbeddedEmulator;
  let ec2: EC2Client;

  before(async () => {
    emulator = await startEmbedded();
    ec2 = emulatorClient(emulator.endpoint);
  });
  after(async () => {
    ec2.destroy();
    await emulator.stop();
  });
  beforeEach(async () => emulator.reset());

  const snapshotIds = async (filters: Filter[]) =>
    (
      (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], Filters: filters }))).Snapshots ?? []
    ).map((s) => s.SnapshotId);

  it("lists the account's own backups for Owners self or its ID, and nothing for another owner", async () => {
    const image = await createImage(ec2, "web");
    const listed = async (Owners: string[]) =>
      ((await ec2.send(new DescribeImagesCommand({ Owners }))).Images ?? []).map((i) => i.ImageId);
    expect(await listed(["self"])).to.deep.equal([image.imageId]);
    expect(await listed(["123456789012"])).to.deep.equal([image.imageId]);
    expect(await listed(["amazon"])).to.deep.equal([]);
  });

  it("backs an AMI with the snapshot given, as EC2 does", async () => {
    const image = await createImage(ec2, "web");
    const described = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));
    const [mapping] = described.Images?.[0]?.BlockDeviceMappings ?? [];
    expect([mapping.DeviceName, mapping.Ebs?.SnapshotId]).to.deep.equal(["/dev/sda1", image.snapshotId]);
    expect((await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots).to.have.length(
      1,
    );
  });

  it("fails a request naming a missing ID, where a snapshot-id filter just leaves it out", async () => {
    const kept = await createSnapshot(ec2);
    const missing = "snap-0123456789abcdef0";
    expect(await codeOf(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [kept, missing] })))).to.equal(
      `InvalidSnapshot.NotFound: The snapshot '${missing}' does not exist.`,
    );
    expect(await snapshotIds([{ Name: "snapshot-id", Values: [kept, missing] }])).to.deep.equal([kept]);
  });

  it("matches * and ? wildcards in ID filters", async () => {
    const ids = [await createSnapshot(ec2), await createSnapshot(ec2), await createSnapshot(ec2)];
    expect(await snapshotIds([{ Name: "snapshot-id", Values: ["snap-*"] }])).to.deep.equal(ids);
    expect(await snapshotIds([{ Name: "snapshot-id", Values: ["*1", "sna?-*2"] }])).to.deep.equal([
      ids[1],
      ids[2],
    ]);
    // ? is one character, * any run of them.
    expect(await snapshotIds([{ Name: "snapshot-id", Values: ["snap-?", "ami-*"] }])).to.deep.equal([]);
  });

  it("ANDs tag filters and ORs their values, with wildcards, and matches keys with tag-key", async () => {
    const nightlyProd = await createSnapshot(ec2, { Backup: "nightly", Env: "prod" });
    const nightlyDev = await createSnapshot(ec2, { Backup: "nightly", Env: "dev" });
    const weekly = await createSnapshot(ec2, { Backup: "weekly-full", Env: "prod" });
    await createSnapshot(ec2, { Name: "scratch" });
    expect(await snapshotIds([{ Name: "tag:Backup", Values: ["nightly"] }])).to.deep.equal([
      nightlyProd,
      nightlyDev,
    ]);
    expect(
      await snapshotIds([
        { Name: "tag:Backup", Values: ["nightly", "weekly*"] },
        { Name: "tag:Env", Values: ["prod"] },
      ]),
    ).to.deep.equal([nightlyProd, weekly]);
    expect(await snapshotIds([{ Name: "tag-key", Values: ["Env"] }])).to.deep.equal([
      nightlyProd,
      nightlyDev,
      weekly,
    ]);
  });

  it("serves pages of at most MaxResults with a NextToken, which the SDK's paginator follows", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(await createSnapshot(ec2));
    }
    const pages: string[][] = [];
    for await (const page of paginateDescribeSnapshots(
      { client: ec2, pageSize: 5 },
      { OwnerIds: ["self"] },
    )) {
      pages.push((page.Snapshots ?? []).map((s) => s.SnapshotId as string));
    }
    expect(pages.map((p) => p.length)).to.deep.equal([5, 5, 2]);
    expect(pages.flat()).to.deep.equal(ids);
    expect(await codeOf(ec2.send(new DescribeSnapshotsCommand({ MaxResults: 4 })))).to.equal(
      "InvalidParameterValue: MaxResults must be between 5 and 1000",
    );
  });

  it("hides a disabled AMI unless IncludeDisabled, and keeps its snapshot in use", async () => {
    const image = await createImage(ec2, "old-web");
    await ec2.send(new DisableImageCommand({ ImageId: image.imageId }));
    const listed = async (IncludeDisabled: boolean) =>
      ((await ec2.send(new DescribeImagesCommand({ Owners: ["self"], IncludeDisabled }))).Images ?? []).map(
        (i) => [i.ImageId, i.State],
      );
    expect(await listed(false)).to.deep.equal([]);
    expect(await listed(true)).to.deep.equal([[image.imageId, "disabled"]]);
    expect(await codeOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: image.snapshotId })))).to.equal(
      `InvalidSnapshot.InUse: The snapshot ${image.snapshotId} is currently in use by ${image.imageId}`,
    );
  });

  it("refuses to delete a snapshot a registered AMI uses, and deletes it once the AMI is deregistered", async () => {
    const image = await createImage(ec2, "web");
    expect(await codeOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: image.snapshotId })))).to.match(
      /^InvalidSnapshot\.InUse: /,
    );
    await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: image.snapshotId }));
    expect((await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images).to.deep.equal([]);
    expect(await snapshotIds([])).to.deep.equal([]);
    expect(await codeOf(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })))).to.equal(
      `InvalidAMIID.NotFound: The image id '[${image.imageId}]' does not exist`,
    );
  });

  it("fails a whole CreateTags when one ID is missing, naming the first missing one", async () => {
    const ids = [await createSnapshot(ec2), await createSnapshot(ec2)];
    const tags = [{ Key: "Retention", Value: "90days" }];
    const first = "snap-0000000000000000a";
    const second = "snap-0000000000000000b";
    expect(
      await codeOf(
        ec2.send(new CreateTagsCommand({ Resources: [ids[0], first, ids[1], second], Tags: tags })),
      ),
    ).to.equal(`InvalidSnapshot.NotFound: The snapshot '${first}' does not exist.`);
    const after = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots ?? [];
    expect(after.map((s) => s.Tags ?? [])).to.deep.equal([[], []]);
  });

  it("refuses tags past a resource's 50 and writes none of them", async () => {
    const full = await createSnapshot(
      ec2,
      Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"])),
    );
    const tags = [
      { Key: "Retention", Value: "90days" },
      { Key: "DeleteOn", Value: "2027-02-27" },
    ];
    expect(await codeOf(ec2.send(new CreateTagsCommand({ Resources: [full], Tags: tags })))).to.equal(
      "TagLimitExceeded: The maximum number of Tags for a resource has been reached.",
    );
    const [after] = (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [full] }))).Snapshots ?? [];
    expect(after.Tags).to.have.length(49);
  });

  it("refuses a filter or an action it does not implement, by name", async () => {
    expect(
      await codeOf(
        ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: "encrypted", Values: ["true"] }] })),
      ),
    ).to.match(
      /^InvalidParameterValue: The filter 'encrypted' is invalid \(this emulator knows snapshot-id, /,
    );
    const answer = await fetch(emulator.endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=RunInstances&Version=2016-11-15",
    });
    expect([answer.status, await answer.text()]).to.satisfy(
      ([status, body]: [number, string]) =>
        status === 400 && body.includes("<Code>InvalidAction</Code>") && body.includes("RunInstances"),
    );
  });

  it("answers RequestLimitExceeded from EC2's buckets when asked to throttle, and never otherwise", async () => {
    // Unfiltered, unpaginated DescribeSnapshots: a bucket of 50 that refills 10 a second.
    const burst = async (target: EmbeddedEmulator) => {
      const once = new EC2Client({
        region: "us-east-1",
        endpoint: target.endpoint,
        credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        maxAttempts: 1,
      });
      try {
        const codes = await Promise.all(
          Array.from({ length: 120 }, () => codeOf(once.send(new DescribeSnapshotsCommand({})))),
        );
        return codes.filter((code) => code.startsWith("RequestLimitExceeded")).length;
      } finally {
        once.destroy();
      }
    };
    const throttling = await startEmbedded({ throttle: true });
    try {
      const refused = await burst(throttling);
      // At least the 70 over the bucket, less what refilled while the burst was answered.
      expect(refused).to.be.within(20, 70);
      expect(throttling.account.throttled.DescribeSnapshots).to.equal(refused);
    } finally {
      await throttling.stop();
    }
    expect(await burst(emulator)).to.equal(0);
  });
});
