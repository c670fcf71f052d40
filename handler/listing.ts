// Reading the account: the AMIs and snapshots it owns, page by page, and fresh reads of chosen IDs.
import {
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  paginateDescribeImages,
  paginateDescribeSnapshots,
  type EC2Client,
  type Image,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { isoDateUtc } from "./dates";
import type { Tag } from "./tagPolicy";

/** DescribeImages and DescribeSnapshots return at most 1000 items a page. */
export const PAGE_SIZE = 1000;
/** EC2 accepts at most 200 values in one filter. */
export const MAX_FILTER_VALUES = 200;

export interface Listed {
  id: string;
  tags: Tag[];
  /** UTC creation date, YYYY-MM-DD, when EC2 gave one. */
  createdOn: string | undefined;
  /** For an AMI: the snapshots behind it. */
  backing?: string[];
}

// Disabled AMIs are hidden from DescribeImages unless asked for, yet they still hold their
// snapshots ("You can't delete snapshots associated with disabled AMIs", EC2 User Guide, Disable an
// AMI). Deprecated AMIs are always shown to their owner; asking costs nothing and says so.
// A function, not a shared object: the SDK's paginators write NextToken into the input they get.
const imageQuery = () => ({ Owners: ["self"], IncludeDisabled: true, IncludeDeprecated: true });

function utcDay(value: Date | string | undefined): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : isoDateUtc(date);
}

/** Tags as strings, whatever EC2 (or an emulator) sent: a missing value reads as "". */
export function cleanTags(tags: { Key?: string; Value?: string }[] | undefined): Tag[] {
  return (tags ?? [])
    .filter((t) => typeof t.Key === "string")
    .map((t) => ({ Key: t.Key as string, Value: typeof t.Value === "string" ? t.Value : "" }));
}

function fromImage(image: Image): Listed {
  return {
    id: image.ImageId ?? "",
    tags: cleanTags(image.Tags),
    createdOn: utcDay(image.CreationDate),
    backing: (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [])),
  };
}

function fromSnapshot(snapshot: Snapshot): Listed {
  return {
    id: snapshot.SnapshotId ?? "",
    tags: cleanTags(snapshot.Tags),
    createdOn: utcDay(snapshot.StartTime),
  };
}

export type Kind = "ami" | "snapshot";

export async function* listImages(ec2: EC2Client): AsyncIterable<Listed[]> {
  const pages = paginateDescribeImages(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    imageQuery(),
  );
  for await (const page of pages) {
    yield (page.Images ?? []).map(fromImage);
  }
}

export async function* listSnapshots(ec2: EC2Client): AsyncIterable<Listed[]> {
  const pages = paginateDescribeSnapshots(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    { OwnerIds: ["self"] },
  );
  for await (const page of pages) {
    yield (page.Snapshots ?? []).map(fromSnapshot);
  }
}

/**
 * The current state of up to 200 IDs of one kind. A filter, unlike ImageIds / SnapshotIds, does not
 * fail the call on an ID that no longer exists: it is simply absent from the answer.
 */
export async function describeByIds(ec2: EC2Client, kind: Kind, ids: string[]): Promise<Listed[]> {
  const found: Listed[] = [];
  for (let start = 0; start < ids.length; start += MAX_FILTER_VALUES) {
    const values = ids.slice(start, start + MAX_FILTER_VALUES);
    if (kind === "ami") {
      const page = await ec2.send(
        new DescribeImagesCommand({ ...imageQuery(), Filters: [{ Name: "image-id", Values: values }] }),
      );
      found.push(...(page.Images ?? []).map(fromImage));
    } else {
      const page = await ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ["self"],
          Filters: [{ Name: "snapshot-id", Values: values }],
        }),
      );
      found.push(...(page.Snapshots ?? []).map(fromSnapshot));
    }
  }
  return found;
}

export async function existingImages(ec2: EC2Client, ids: string[]): Promise<string[]> {
  return (await describeByIds(ec2, "ami", ids)).map((r) => r.id);
}

export async function existingSnapshots(ec2: EC2Client, ids: string[]): Promise<string[]> {
  return (await describeByIds(ec2, "snapshot", ids)).map((r) => r.id);
}
