// A sinon stub on a real EC2Client's `send`, answering the three commands the tagger uses from
// in-memory resources: pages of at most MaxResults with NextToken, CreateTags applied to the tags.
import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  EC2ServiceException,
} from "@aws-sdk/client-ec2";
import sinon from "sinon";
import type { Tag } from "../../handler/tagPolicy";

export interface FakeResource {
  id: string;
  tags?: Tag[];
  /** For an AMI: the snapshots behind it. */
  backing?: string[];
}

export interface StubbedEc2 {
  client: EC2Client;
  send: sinon.SinonStub;
  images: Map<string, Tag[]>;
  snapshots: Map<string, Tag[]>;
  /** Inputs of every command sent, by command name. */
  sent(
    name:
      | "DescribeImagesCommand"
      | "DescribeSnapshotsCommand"
      | "CreateTagsCommand"
      | "DeregisterImageCommand"
      | "DeleteSnapshotCommand",
  ): any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function ec2Error(code: string, message: string): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    $fault: "client",
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

/** An EC2 filter value as a pattern: * any run of characters, ? exactly one. */
function wildcard(value: string): RegExp {
  const body = value
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

function page<T>(items: T[], input: { MaxResults?: number; NextToken?: string }) {
  const start = input.NextToken ? Number(input.NextToken) : 0;
  const size = input.MaxResults ?? items.length;
  const end = Math.min(items.length, start + size);
  return { items: items.slice(start, end), NextToken: end < items.length ? String(end) : undefined };
}

/** Resources deleted "mid-run" are in `gone`: listed, but CreateTags on them fails as in EC2. */
export function stubEc2(
  resources: {
    images?: FakeResource[];
    snapshots?: FakeResource[];
    gone?: string[];
    /** Deletions EC2 refuses, by ID: an error code. */
    refuseDeletion?: Record<string, string>;
    /** Disabled AMIs: like EC2, DescribeImages shows them only when IncludeDisabled is sent. */
    disabledImages?: string[];
    /** Rewrites an answer before the tagger sees it: a way to model a misbehaving EC2. */
    afterCommand?: (
      name: string,
      input: any, // eslint-disable-line @typescript-eslint/no-explicit-any
      answer: any, // eslint-disable-line @typescript-eslint/no-explicit-any
    ) => unknown;
    /** Runs before each command is answered: a way to change the account mid-run. */
    beforeCommand?: (
      name: string,
      input: any, // eslint-disable-line @typescript-eslint/no-explicit-any
      account: { images: Map<string, Tag[]>; snapshots: Map<string, Tag[]> },
    ) => void;
  } = {},
): StubbedEc2 {
  const client = new EC2Client({
    region: "us-east-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  const images = new Map((resources.images ?? []).map((r) => [r.id, r.tags ?? []]));
  const snapshots = new Map((resources.snapshots ?? []).map((r) => [r.id, r.tags ?? []]));
  const gone = new Set(resources.gone ?? []);
  const backing = new Map((resources.images ?? []).map((r) => [r.id, r.backing ?? []]));
  const send = sinon.stub(client, "send") as unknown as sinon.SinonStub;
  // Copies, since the SDK paginators reuse one input object for every page.
  const log: { name: string; input: unknown }[] = [];
  const disabled = new Set(resources.disabledImages ?? []);
  const hidden = (id: string, input: { IncludeDisabled?: boolean }) =>
    disabled.has(id) && input.IncludeDisabled !== true;
  const answer = async (command: { input: unknown }): Promise<unknown> => {
    log.push({ name: command.constructor.name, input: structuredClone(command.input) });
    resources.beforeCommand?.(command.constructor.name, command.input, { images, snapshots });
    const filters = (command as { input: { Filters?: { Name?: string; Values?: string[] }[] } }).input
      .Filters;
    if (filters && filters.length > 0) {
      if (filters.reduce((n, f) => n + (f.Values ?? []).length, 0) > 200) {
        throw ec2Error(
          "InvalidParameterValue",
          "The maximum number of filter values specified on a single call is 200",
        );
      }
      const isImages = command instanceof DescribeImagesCommand;
      const store = isImages ? images : snapshots;
      // EC2's filter semantics: values of one filter are ORed (with * and ? wildcards), filters ANDed.
      const matches = (id: string, tags: Tag[]) =>
        filters.every((f) => {
          const values = f.Values ?? [];
          const subject =
            f.Name === "image-id" || f.Name === "snapshot-id"
              ? [id]
              : f.Name?.startsWith("tag:")
                ? tags.filter((t) => t.Key === f.Name?.slice(4)).map((t) => t.Value)
                : [];
          return subject.some((text) => values.some((v) => wildcard(v).test(text)));
        });
      // A listing (wildcards) still shows what is "gone"; a later look-up by ID does not.
      const lookup = filters.every((f) => (f.Values ?? []).every((v) => !/[*?]/.test(v)));
      const alive = [...store]
        .filter(
          ([id, tags]) =>
            matches(id, tags) &&
            !(lookup && gone.has(id)) &&
            !hidden(id, command.input as { IncludeDisabled?: boolean }),
        )
        .map(([id]) => id);
      const { items, NextToken } = page(alive, command.input as { MaxResults?: number; NextToken?: string });
      return isImages
        ? {
            Images: items.map((ImageId) => ({
              ImageId,
              Tags: [...(store.get(ImageId) ?? [])],
              BlockDeviceMappings: (backing.get(ImageId) ?? []).map((SnapshotId) => ({
                Ebs: { SnapshotId },
              })),
            })),
            NextToken,
          }
        : {
            Snapshots: items.map((SnapshotId) => ({ SnapshotId, Tags: [...(store.get(SnapshotId) ?? [])] })),
            NextToken,
          };
    }
    if (command instanceof DescribeImagesCommand) {
      const { items, NextToken } = page(
        [...images].filter(([id]) => !hidden(id, command.input)),
        command.input,
      );
      return {
        Images: items.map(([ImageId, Tags]) => ({
          ImageId,
          Tags: [...Tags],
          BlockDeviceMappings: (backing.get(ImageId) ?? []).map((SnapshotId) => ({ Ebs: { SnapshotId } })),
        })),
        NextToken,
      };
    }
    if (command instanceof DescribeSnapshotsCommand && command.input.SnapshotIds) {
      // Like EC2: one ID that does not exist fails the call.
      const missing = command.input.SnapshotIds.find((id) => !snapshots.has(id) || gone.has(id));
      if (missing) {
        throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${missing}' does not exist.`);
      }
      return {
        Snapshots: command.input.SnapshotIds.map((SnapshotId) => ({
          SnapshotId,
          Tags: [...(snapshots.get(SnapshotId) ?? [])],
        })),
      };
    }
    if (command instanceof DescribeSnapshotsCommand) {
      const { items, NextToken } = page([...snapshots], command.input);
      return { Snapshots: items.map(([SnapshotId, Tags]) => ({ SnapshotId, Tags: [...Tags] })), NextToken };
    }
    if (command instanceof CreateTagsCommand) {
      const ids = command.input.Resources ?? [];
      if (ids.length > 1000) {
        throw ec2Error("InvalidParameterValue", "too many resource IDs");
      }
      // Like EC2: the whole call fails, and the message names only the first missing ID.
      const missing = ids.find((id) => gone.has(id) || (!images.has(id) && !snapshots.has(id)));
      if (missing) {
        throw missing.startsWith("ami-")
          ? ec2Error("InvalidAMIID.NotFound", `The image id '[${missing}]' does not exist`)
          : ec2Error("InvalidSnapshot.NotFound", `The snapshot '${missing}' does not exist.`);
      }
      for (const id of ids) {
        const store = images.has(id) ? images : snapshots;
        const current = store.get(id) ?? [];
        for (const tag of command.input.Tags ?? []) {
          const existing = current.find((t) => t.Key === tag.Key);
          if (existing) {
            existing.Value = tag.Value as string;
          } else {
            current.push({ Key: tag.Key as string, Value: tag.Value as string });
          }
        }
        store.set(id, current);
      }
      return {};
    }
    if (command instanceof DeregisterImageCommand) {
      const id = command.input.ImageId as string;
      if (!images.delete(id)) {
        throw ec2Error("InvalidAMIID.NotFound", `The image id '[${id}]' does not exist`);
      }
      backing.delete(id);
      return {};
    }
    if (command instanceof DeleteSnapshotCommand) {
      const id = command.input.SnapshotId as string;
      const refused = resources.refuseDeletion?.[id];
      if (refused) {
        throw ec2Error(refused, `refused for ${id}`);
      }
      const user = [...backing].find(([, snaps]) => snaps.includes(id));
      if (user) {
        throw ec2Error("InvalidSnapshot.InUse", `The snapshot ${id} is currently in use by ${user[0]}`);
      }
      if (!snapshots.delete(id)) {
        throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${id}' does not exist.`);
      }
      return {};
    }
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  };
  send.callsFake(async (command: { input: unknown }) => {
    const result = await answer(command);
    return resources.afterCommand
      ? resources.afterCommand(command.constructor.name, command.input, result)
      : result;
  });
  return {
    client,
    send,
    images,
    snapshots,
    sent: (name) => log.filter((entry) => entry.name === name).map((entry) => entry.input),
  };
}

/** n resources with IDs like snap-00000001, optionally all carrying the same tags. */
export function manyResources(prefix: "ami" | "snap", n: number, tags?: Tag[]): FakeResource[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i.toString(16).padStart(8, "0")}`,
    tags: tags ? tags.map((t) => ({ ...t })) : undefined,
  }));
}

/** A logger that keeps its lines for assertions. */
export function recordingLogger() {
  const lines: { level: string; message: string; [field: string]: unknown }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, ...fields });
  return { log: { info: at("INFO"), warn: at("WARN"), error: at("ERROR") }, lines };
}

/** n resources whose IDs spread over the 256 shards, as real EC2's random IDs do. */
export function spreadResources(prefix: "ami" | "snap", n: number, tags?: Tag[]): FakeResource[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${((Math.imul(i + 1, 2654435761) >>> 24) & 0xff).toString(16).padStart(2, "0")}${i.toString(16).padStart(15, "0")}`,
    tags: tags ? tags.map((t) => ({ ...t })) : undefined,
  }));
}
