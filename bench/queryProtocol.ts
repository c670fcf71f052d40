// The EC2 query protocol on both sides of a FakeAccount: form-encoded requests in, EC2's XML out.
// Plugged in as the SDK client's requestHandler, so the real client (serializers, XML parser,
// adaptive retry) runs unchanged above it.
import type { Tag } from "../handler/tagPolicy";
import { Ec2Error, type FakeAccount, type Listed } from "./fakeAccount";

const NS = "http://ec2.amazonaws.com/doc/2016-11-15/";
let requestCounter = 0;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function tagSet(tags: Tag[]): string {
  if (tags.length === 0) {
    return "";
  }
  return `<tagSet>${tags.map((t) => `<item><key>${escapeXml(t.Key)}</key><value>${escapeXml(t.Value)}</value></item>`).join("")}</tagSet>`;
}

// Items carry the fields EC2 returns, so parsing and memory cost what they cost in Lambda.
function snapshotXml(item: Listed): string {
  return `<item><snapshotId>${item.id}</snapshotId><volumeId>vol-0123456789abcdef0</volumeId><status>completed</status><startTime>2026-01-01T00:00:00.000Z</startTime><progress>100%</progress><ownerId>123456789012</ownerId><volumeSize>8</volumeSize><description>Created by CreateImage for a nightly backup</description><encrypted>true</encrypted><storageTier>standard</storageTier>${tagSet(item.tags)}</item>`;
}

function imageXml(item: Listed): string {
  return `<item><imageId>${item.id}</imageId><imageLocation>123456789012/nightly-backup</imageLocation><imageState>available</imageState><imageOwnerId>123456789012</imageOwnerId><creationDate>2026-01-01T00:00:00.000Z</creationDate><isPublic>false</isPublic><architecture>x86_64</architecture><imageType>machine</imageType><name>nightly-backup-${item.id}</name><description>Nightly backup</description><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs><snapshotId>snap-0123456789abcdef0</snapshotId><volumeSize>8</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><encrypted>true</encrypted></ebs></item></blockDeviceMapping><virtualizationType>hvm</virtualizationType><hypervisor>xen</hypervisor><enaSupport>true</enaSupport>${tagSet(item.tags)}</item>`;
}

function indexed(params: URLSearchParams, prefix: string): string[] {
  const values: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) {
    values.push(params.get(`${prefix}.${i}`) as string);
  }
  return values;
}

function tagsFrom(params: URLSearchParams): Tag[] {
  const tags: Tag[] = [];
  for (let i = 1; params.has(`Tag.${i}.Key`); i++) {
    tags.push({ Key: params.get(`Tag.${i}.Key`) as string, Value: params.get(`Tag.${i}.Value`) ?? "" });
  }
  return tags;
}

function answer(action: string, params: URLSearchParams, account: FakeAccount): string {
  const requestId = `<requestId>fake-${++requestCounter}</requestId>`;
  switch (action) {
    case "DescribeImages":
    case "DescribeSnapshots": {
      const kind = action === "DescribeImages" ? "image" : "snapshot";
      const owners = indexed(params, "Owner"); // Owners and OwnerIds are both "Owner.N" on the wire
      if (owners.length !== 1 || owners[0] !== "self") {
        throw new Ec2Error(
          "InvalidParameterValue",
          `the benchmark account answers Owner self only, got ${owners}`,
        );
      }
      const filterName = params.get("Filter.1.Name");
      const maxResults = params.get("MaxResults");
      const page = account.describe(kind, {
        maxResults: maxResults === null ? undefined : Number(maxResults),
        nextToken: params.get("NextToken") ?? undefined,
        filterIds: filterName === null ? undefined : indexed(params, "Filter.1.Value"),
      });
      const set = kind === "image" ? "imagesSet" : "snapshotSet";
      const items = page.items.map(kind === "image" ? imageXml : snapshotXml).join("");
      const next = page.nextToken ? `<nextToken>${page.nextToken}</nextToken>` : "";
      return `<${action}Response xmlns="${NS}">${requestId}<${set}>${items}</${set}>${next}</${action}Response>`;
    }
    case "CreateTags":
      account.createTags(indexed(params, "ResourceId"), tagsFrom(params));
      return `<CreateTagsResponse xmlns="${NS}">${requestId}<return>true</return></CreateTagsResponse>`;
    default:
      throw new Ec2Error("InvalidAction", `the benchmark account does not implement ${action}`);
  }
}

interface HttpRequestLike {
  body?: unknown;
}

/** A requestHandler for EC2Client that answers from the account. */
export function queryProtocolHandler(
  account: FakeAccount,
  onRequest: (action: string) => void = () => undefined,
) {
  return {
    async handle(request: HttpRequestLike) {
      const params = new URLSearchParams(String(request.body ?? ""));
      const action = params.get("Action") ?? "";
      onRequest(action);
      let status = 200;
      let xml: string;
      try {
        xml = answer(action, params, account);
      } catch (error) {
        if (!(error instanceof Ec2Error)) {
          throw error;
        }
        status = error.status;
        xml = `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error></Errors><RequestID>fake-${++requestCounter}</RequestID></Response>`;
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
