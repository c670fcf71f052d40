// Seeds the EC2 emulator: AMIs and snapshots covering every case of the tag policy, and bulk accounts.
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RegisterImageCommand,
} from "@aws-sdk/client-ec2";
import type { Tag } from "../handler/tagPolicy";

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

/**
 * An AMI backed by a fresh (untagged) snapshot; returns both IDs. EC2 and the embedded emulator back
 * the AMI with the snapshot given; moto ignores the mapping and makes a snapshot of its own, so
 * there the one given is deleted and moto's returned: the same account on either emulator.
 */
export async function createImage(ec2: EC2Client, name: string, tags: Record<string, string> = {}) {
  const given = await createSnapshot(ec2);
  const image = await ec2.send(
    new RegisterImageCommand({
      Name: name,
      RootDeviceName: "/dev/sda1",
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: given } }],
    }),
  );
  const imageId = image.ImageId as string;
  const registered = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  const snapshotId = registered.Images?.[0]?.BlockDeviceMappings?.[0]?.Ebs?.SnapshotId ?? given;
  if (snapshotId !== given) {
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: given }));
  }
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

/** Creates `count` snapshots of one volume, `concurrency` requests at a time, each with tagsFor(i). */
export async function createSnapshots(
  ec2: EC2Client,
  count: number,
  tagsFor: (index: number) => Tag[],
  concurrency = 8,
): Promise<string[]> {
  const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 1 }));
  const ids: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const tags = tagsFor(index);
        const snapshot = await ec2.send(
          new CreateSnapshotCommand({
            VolumeId: volume.VolumeId,
            ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: "snapshot", Tags: tags }] } : {}),
          }),
        );
        ids[index] = snapshot.SnapshotId as string;
      }
    }),
  );
  return ids;
}

/** Registers one AMI per backing snapshot given, tagging each with tagsFor(i). */
export async function registerImages(
  ec2: EC2Client,
  backing: string[],
  tagsFor: (index: number) => Tag[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, snapshotId] of backing.entries()) {
    const image = await ec2.send(
      new RegisterImageCommand({
        Name: `backup-${index}`,
        RootDeviceName: "/dev/sda1",
        BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snapshotId } }],
      }),
    );
    const imageId = image.ImageId as string;
    const tags = tagsFor(index);
    if (tags.length > 0) {
      await ec2.send(new CreateTagsCommand({ Resources: [imageId], Tags: tags }));
    }
    ids.push(imageId);
  }
  return ids;
}

/** Every owned AMI and snapshot in listing order, with its tags. */
export async function listAll(
  ec2: EC2Client,
): Promise<{ images: { id: string; tags: Tag[] }[]; snapshots: { id: string; tags: Tag[] }[] }> {
  const images = (await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images ?? [];
  const snapshots = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots ?? [];
  return {
    images: images.map((i) => ({ id: i.ImageId as string, tags: (i.Tags ?? []) as Tag[] })),
    snapshots: snapshots.map((s) => ({ id: s.SnapshotId as string, tags: (s.Tags ?? []) as Tag[] })),
  };
}
