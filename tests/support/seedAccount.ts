// Seeds the emulator with AMIs and snapshots covering every case of the tag policy.
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import type { Tag } from "../../handler/tagPolicy";

export function emulatorClient(endpoint: string, region = "us-east-1"): EC2Client {
  return new EC2Client({
    region,
    endpoint,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });
}

const tagList = (record: Record<string, string>): Tag[] =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

export async function createSnapshot(ec2: EC2Client, tags: Record<string, string> = {}): Promise<string> {
  const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
  const snapshot = await ec2.send(
    new CreateSnapshotCommand({
      VolumeId: volume.VolumeId,
      ...(Object.keys(tags).length > 0
        ? { TagSpecifications: [{ ResourceType: "snapshot", Tags: tagList(tags) }] }
        : {}),
    }),
  );
  return snapshot.SnapshotId as string;
}

/** An AMI backed by a fresh (untagged) snapshot; returns both IDs. */
export async function createImage(ec2: EC2Client, name: string, tags: Record<string, string> = {}) {
  const snapshotId = await createSnapshot(ec2);
  const image = await ec2.send(
    new RegisterImageCommand({
      Name: name,
      RootDeviceName: "/dev/sda1",
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snapshotId } }],
    }),
  );
  const imageId = image.ImageId as string;
  if (Object.keys(tags).length > 0) {
    await ec2.send(new CreateTagsCommand({ Resources: [imageId], Tags: tagList(tags) }));
  }
  return { imageId, snapshotId };
}

/** Every owned AMI and snapshot with its tags, as ID -> { key: value }. */
export async function tagsById(ec2: EC2Client): Promise<Record<string, Record<string, string>>> {
  const result: Record<string, Record<string, string>> = {};
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }));
  for (const image of images.Images ?? []) {
    result[image.ImageId as string] = Object.fromEntries((image.Tags ?? []).map((t) => [t.Key, t.Value]));
  }
  const snapshots = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }));
  for (const snapshot of snapshots.Snapshots ?? []) {
    result[snapshot.SnapshotId as string] = Object.fromEntries(
      (snapshot.Tags ?? []).map((t) => [t.Key, t.Value]),
    );
  }
  return result;
}

/** The seeded account: one resource per case of the tag policy, by name. */
export async function seedPolicyCases(ec2: EC2Client) {
  const freshImage = await createImage(ec2, "fresh");
  const oldImage = await createImage(ec2, "tagged-under-30-days", {
    Retention: "30days",
    DeleteOn: "2026-12-20",
  });
  return {
    imageNew: freshImage.imageId,
    imageReanchored: oldImage.imageId,
    backingSnapshots: [freshImage.snapshotId, oldImage.snapshotId],
    snapshotNew: await createSnapshot(ec2),
    snapshotCurrent: await createSnapshot(ec2, {
      Retention: "90days",
      DeleteOn: "2027-01-15",
      Owner: "platform",
    }),
    snapshotReanchored: await createSnapshot(ec2, { Retention: "30days", DeleteOn: "2026-12-20" }),
    snapshotHandTagged: await createSnapshot(ec2, { Retention: "keep", Name: "do not touch" }),
    snapshotForeignDeleteOn: await createSnapshot(ec2, { DeleteOn: "2030-01-01" }),
    snapshotOwnerSet: await createSnapshot(ec2, { Owner: "payments" }),
    snapshotBroken: await createSnapshot(ec2, { Retention: "90days", DeleteOn: "someday" }),
  };
}
