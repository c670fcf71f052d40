// The EC2 query protocol on both sides of an Ec2Account: form-encoded requests in, EC2's XML out.
// The benchmark plugs it in as the SDK client's requestHandler, so the real client (serializers,
// XML parser, adaptive retry) runs unchanged above it; the embedded emulator serves it over HTTP.
import type { Tag } from "../../handler/tagPolicy";
import {
  ACCOUNT_ID,
  Ec2Error,
  type Ec2Account,
  type Filter,
  type ImageDetail,
  type Listed,
  type SnapshotDetail,
} from "./ec2Account";

const NS = "http://ec2.amazonaws.com/doc/2016-11-15/";
let requestCounter = 0;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** EC2 leaves out a description nobody gave. */
function description(text: string): string {
  return text === "" ? "" : `<description>${escapeXml(text)}</description>`;
}

function tagSet(tags: Tag[]): string {
  if (tags.length === 0) {
    return "";
  }
  return `<tagSet>${tags.map((t) => `<item><key>${escapeXml(t.Key)}</key><value>${escapeXml(t.Value)}</value></item>`).join("")}</tagSet>`;
}

// Items carry the fields EC2 returns, so parsing and memory cost what they cost in Lambda.
function snapshotXml(item: Listed): string {
  const d = item.detail as SnapshotDetail;
  return `<item><snapshotId>${item.id}</snapshotId><volumeId>${d.volumeId}</volumeId><status>completed</status><startTime>${d.createdAt}</startTime><progress>100%</progress><ownerId>${ACCOUNT_ID}</ownerId><volumeSize>${d.volumeSize}</volumeSize>${description(d.description)}<encrypted>${d.encrypted}</encrypted><storageTier>standard</storageTier>${tagSet(item.tags)}</item>`;
}

function imageXml(item: Listed): string {
  const d = item.detail as ImageDetail;
  // The benchmark's AMIs are named after their ID; the location keeps the name they share.
  const name = d.name ?? `nightly-backup-${item.id}`;
  const location = d.name ?? "nightly-backup";
  const devices = d.blockDevices
    .map(
      (b) =>
        `<item><deviceName>${escapeXml(b.deviceName)}</deviceName><ebs><snapshotId>${b.snapshotId}</snapshotId><volumeSize>${b.volumeSize}</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><encrypted>true</encrypted></ebs></item>`,
    )
    .join("");
  return `<item><imageId>${item.id}</imageId><imageLocation>${ACCOUNT_ID}/${escapeXml(location)}</imageLocation><imageState>${item.disabled ? "disabled" : "available"}</imageState><imageOwnerId>${ACCOUNT_ID}</imageOwnerId><creationDate>${d.createdAt}</creationDate><isPublic>false</isPublic><architecture>x86_64</architecture><imageType>machine</imageType><name>${escapeXml(name)}</name>${description(d.description)}<rootDeviceType>ebs</rootDeviceType><rootDeviceName>${escapeXml(d.rootDeviceName)}</rootDeviceName><blockDeviceMapping>${devices}</blockDeviceMapping><virtualizationType>hvm</virtualizationType><hypervisor>xen</hypervisor><enaSupport>true</enaSupport>${tagSet(item.tags)}</item>`;
}

/** Values of "Prefix.1", "Prefix.2", ...; undefined when there is no "Prefix.1". */
function indexed(params: URLSearchParams, prefix: string): string[] | undefined {
  if (!params.has(`${prefix}.1`)) {
    return undefined;
  }
  const values: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) {
    values.push(params.get(`${prefix}.${i}`) as string);
  }
  return values;
}

function tagsFrom(params: URLSearchParams, prefix = "Tag"): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1; params.has(`${prefix}.${i}.Key`); i++) {
    tags.push({
      Key: params.get(`${prefix}.${i}.Key`) as string,
      Value: params.get(`${prefix}.${i}.Value`) ?? "",
    });
  }
  return tags;
}

/** The tags of a TagSpecifications entry for this resource type (CreateSnapshot, RegisterImage). */
function specifiedTags(params: URLSearchParams, resourceType: string): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1; params.has(`TagSpecification.${i}.ResourceType`); i++) {
    const type = params.get(`TagSpecification.${i}.ResourceType`);
    if (type !== resourceType) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `'${type}' is not a valid taggable resource type for this operation (expected ${resourceType})`,
      );
    }
    tags.push(...tagsFrom(params, `TagSpecification.${i}.Tag`));
  }
  return tags;
}

function filtersFrom(params: URLSearchParams): Filter[] | undefined {
  const filters: Filter[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    filters.push({
      name: params.get(`Filter.${i}.Name`) as string,
      values: indexed(params, `Filter.${i}.Value`) ?? [],
    });
  }
  return filters.length === 0 ? undefined : filters;
}

function integer(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) {
    return undefined;
  }
  if (!/^-?\d+$/.test(text)) {
    throw new Ec2Error("InvalidParameterValue", `Value (${text}) for parameter ${name} is invalid.`);
  }
  return Number(text);
}

const simple = (action: string, requestId: string) =>
  `<${action}Response xmlns="${NS}">${requestId}<return>true</return></${action}Response>`;

/** The resources a request carries: listed in its answer, or named to be tagged. For service time. */
let carried = 0;

function answer(action: string, params: URLSearchParams, account: Ec2Account): string {
  carried = 0;
  const requestId = `<requestId>fake-${++requestCounter}</requestId>`;
  switch (action) {
    case "DescribeImages":
    case "DescribeSnapshots": {
      const kind = action === "DescribeImages" ? "image" : "snapshot";
      const page = account.describe(kind, {
        // Owners and OwnerIds are both "Owner.N" on the wire.
        owners: indexed(params, "Owner"),
        ids: indexed(params, kind === "image" ? "ImageId" : "SnapshotId"),
        filters: filtersFrom(params),
        maxResults: integer(params, "MaxResults"),
        nextToken: params.get("NextToken") ?? undefined,
        includeDisabled: params.get("IncludeDisabled") === "true",
      });
      carried = page.items.length;
      const set = kind === "image" ? "imagesSet" : "snapshotSet";
      const items = page.items.map(kind === "image" ? imageXml : snapshotXml).join("");
      const next = page.nextToken ? `<nextToken>${page.nextToken}</nextToken>` : "";
      return `<${action}Response xmlns="${NS}">${requestId}<${set}>${items}</${set}>${next}</${action}Response>`;
    }
    case "CreateTags":
      carried = indexed(params, "ResourceId")?.length ?? 0;
      account.createTags(indexed(params, "ResourceId") ?? [], tagsFrom(params));
      return simple(action, requestId);
    case "CreateVolume": {
      const volume = account.createVolume({
        zone: params.get("AvailabilityZone") ?? undefined,
        size: integer(params, "Size"),
      });
      return `<CreateVolumeResponse xmlns="${NS}">${requestId}<volumeId>${volume.id}</volumeId><size>${volume.size}</size><snapshotId/><availabilityZone>${escapeXml(volume.zone)}</availabilityZone><status>available</status><createTime>${volume.createdAt}</createTime><volumeType>gp2</volumeType><encrypted>false</encrypted></CreateVolumeResponse>`;
    }
    case "CreateSnapshot": {
      // Completed at once: nothing here waits on data being copied.
      const snapshot = account.createSnapshot({
        volumeId: params.get("VolumeId") ?? undefined,
        description: params.get("Description") ?? undefined,
        tags: specifiedTags(params, "snapshot"),
      });
      const body = snapshotXml(snapshot).replace(/^<item>|<\/item>$/g, "");
      return `<CreateSnapshotResponse xmlns="${NS}">${requestId}${body}</CreateSnapshotResponse>`;
    }
    case "RegisterImage": {
      const blockDevices: { deviceName: string; snapshotId?: string }[] = [];
      for (let i = 1; params.has(`BlockDeviceMapping.${i}.DeviceName`); i++) {
        blockDevices.push({
          deviceName: params.get(`BlockDeviceMapping.${i}.DeviceName`) as string,
          snapshotId: params.get(`BlockDeviceMapping.${i}.Ebs.SnapshotId`) ?? undefined,
        });
      }
      const imageId = account.registerImage({
        name: params.get("Name") ?? undefined,
        description: params.get("Description") ?? undefined,
        rootDeviceName: params.get("RootDeviceName") ?? undefined,
        blockDevices,
        tags: specifiedTags(params, "image"),
      });
      return `<RegisterImageResponse xmlns="${NS}">${requestId}<imageId>${imageId}</imageId></RegisterImageResponse>`;
    }
    case "DisableImage":
      account.disableImage(params.get("ImageId") ?? "");
      return simple(action, requestId);
    case "DeregisterImage":
      account.deregisterImage(params.get("ImageId") ?? "");
      return simple(action, requestId);
    case "DeleteSnapshot":
      account.deleteSnapshot(params.get("SnapshotId") ?? "");
      return simple(action, requestId);
    default:
      throw new Ec2Error("InvalidAction", `The action ${action} is not implemented by this emulator`);
  }
}

/** Answers one query-protocol request (its form-encoded body): the HTTP status and EC2's XML. */
export function answerQuery(
  params: URLSearchParams,
  account: Ec2Account,
): { status: number; xml: string; items: number } {
  const action = params.get("Action") ?? "";
  try {
    const xml = answer(action, params, account);
    return { status: 200, xml, items: carried };
  } catch (error) {
    if (!(error instanceof Ec2Error)) {
      throw error;
    }
    return {
      status: error.status,
      items: carried,
      xml: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors><RequestID>fake-${++requestCounter}</RequestID></Response>`,
    };
  }
}

interface HttpRequestLike {
  body?: unknown;
}

export interface QueryHandlerOptions {
  /** Told of every request as it arrives (the benchmark samples memory there). */
  onRequest?: (action: string) => void;
  /** Awaited before the request reaches EC2: the benchmark's simulated CPU queue. */
  beforeSend?: (action: string) => Promise<void>;
  /**
   * How long EC2 takes to answer, given the resources the request carried (listed or tagged) and
   * whether it was throttled; the answer comes after `sleep` of that. Default: at once.
   */
  serviceTimeMs?: (action: string, items: number, throttled: boolean) => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told when the fake has built its answer (before the service time), to keep its CPU apart. */
  onAnswered?: (action: string, status: number) => void;
}

/** A requestHandler for EC2Client that answers from the account, in this process. */
export function queryProtocolHandler(
  account: Ec2Account,
  options: QueryHandlerOptions | ((action: string) => void) = {},
) {
  const opts: QueryHandlerOptions = typeof options === "function" ? { onRequest: options } : options;
  return {
    async handle(request: HttpRequestLike) {
      const params = new URLSearchParams(String(request.body ?? ""));
      const action = params.get("Action") ?? "";
      await opts.beforeSend?.(action);
      opts.onRequest?.(action);
      const { status, xml, items } = answerQuery(params, account);
      opts.onAnswered?.(action, status);
      const delay =
        opts.serviceTimeMs?.(action, items, xml.includes("<Code>RequestLimitExceeded</Code>")) ?? 0;
      if (delay > 0 && opts.sleep) {
        await opts.sleep(delay);
      }
      return {
        response: {
          statusCode: status,
          headers: { "content-type": "text/xml;charset=UTF-8" },
          body: Buffer.from(xml),
        },
      };
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}
