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
import { DELETE_ON_KEY, RETENTION_KEY } from "./tagRules";

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
  // The SDK already hands a Date: reading it costs less than copying it.
  const date = value instanceof Date ? value : new Date(value);
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

/**
 * Every snapshot the account owns, or with `idFilter` only those whose ID matches one of its values
 * (wildcards allowed: "snap-3f*"), which is how the sweep lists one partition.
 */
export async function* listSnapshots(ec2: EC2Client, idFilter?: string[]): AsyncIterable<Listed[]> {
  const pages = paginateDescribeSnapshots(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    {
      OwnerIds: ["self"],
      ...(idFilter ? { Filters: [{ Name: "snapshot-id", Values: [...idFilter] }] } : {}),
    },
  );
  for await (const page of pages) {
    yield (page.Snapshots ?? []).map(fromSnapshot);
  }
}

/**
 * Our snapshots whose tags say they fall due: `Retention` exactly `retention` and `DeleteOn` one of
 * `dates` (at most 200: EC2 accepts at most 200 values in one filter). Tag filters match exact
 * values ("tag:<key> - The key/value combination of a tag assigned to the resource", EC2 API
 * Reference, DescribeSnapshots); expiry re-reads and re-checks every one before deleting, so a
 * filter that matched too much deletes nothing it should not, and the sweep cross-checks that it
 * does not match too little.
 */
export async function* listDueSnapshots(
  ec2: EC2Client,
  retention: string,
  dates: string[],
): AsyncIterable<Listed[]> {
  const pages = paginateDescribeSnapshots(
    { client: ec2, pageSize: PAGE_SIZE, stopOnSameToken: true },
    {
      OwnerIds: ["self"],
      Filters: [
        { Name: `tag:${RETENTION_KEY}`, Values: [retention] },
        { Name: `tag:${DELETE_ON_KEY}`, Values: [...dates] },
      ],
    },
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

/**
 * The first unfiltered page of snapshots: the sample the sweep checks its filter against, and the
 * whole account when `more` is false.
 */
export async function snapshotSample(ec2: EC2Client): Promise<{ page: Listed[]; more: boolean }> {
  const page = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], MaxResults: PAGE_SIZE }));
  return { page: (page.Snapshots ?? []).map(fromSnapshot), more: page.NextToken !== undefined };
}

/**
 * Whether one snapshot exists, asked by its ID rather than by a filter, so the answer does not
 * depend on the filter semantics being checked: SnapshotIds fails with InvalidSnapshot.NotFound for
 * an ID that does not exist.
 */
export async function snapshotExists(ec2: EC2Client, id: string): Promise<boolean> {
  try {
    const page = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"], SnapshotIds: [id] }));
    return (page.Snapshots ?? []).some((s) => s.SnapshotId === id);
  } catch (error) {
    if ((error as { name?: string }).name === "InvalidSnapshot.NotFound") {
      return false;
    }
    throw error;
  }
}

export async function existingImages(ec2: EC2Client, ids: string[]): Promise<string[]> {
  return (await describeByIds(ec2, "ami", ids)).map((r) => r.id);
}

export async function existingSnapshots(ec2: EC2Client, ids: string[]): Promise<string[]> {
  return (await describeByIds(ec2, "snapshot", ids)).map((r) => r.id);
}
