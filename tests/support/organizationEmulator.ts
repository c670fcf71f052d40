// An organization on the emulator, for organization mode's end-to-end tests: accounts in OUs made
// through the Organizations API, each account's EC2 reached as moto allows, by assuming a role in it
// (moto's STS hands out keys it maps to the role's account, whether or not the role exists), and an
// SQS event source mapping played by the test: receive, invoke, delete what did not fail.
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationCommand,
  CreateOrganizationalUnitCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { CreateSnapshotCommand, CreateVolumeCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { Invocation } from "../../local/invokeLambda";

const HUB_REGION = "us-east-1";
const testing = { accessKeyId: "testing", secretAccessKey: "testing" };

export function hubClients(endpoint: string) {
  const config = { region: HUB_REGION, endpoint, credentials: testing };
  return {
    organizations: new OrganizationsClient(config),
    sqs: new SQSClient(config),
    sts: new STSClient(config),
  };
}

export class EmulatedOrganization {
  readonly organizations: OrganizationsClient;
  rootId = "";

  constructor(private readonly endpoint: string) {
    this.organizations = hubClients(endpoint).organizations;
  }

  /** The organization of the default account (moto's 123456789012), which is its management account. */
  async create(): Promise<void> {
    await this.organizations.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
    const roots = await this.organizations.send(new ListRootsCommand({}));
    this.rootId = roots.Roots?.[0]?.Id as string;
  }

  async unit(name: string, parentId = this.rootId): Promise<string> {
    const answer = await this.organizations.send(
      new CreateOrganizationalUnitCommand({ ParentId: parentId, Name: name }),
    );
    return answer.OrganizationalUnit?.Id as string;
  }

  /** A new account, moved into `parentId`. */
  async account(name: string, parentId = this.rootId): Promise<string> {
    const created = await this.organizations.send(
      new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }),
    );
    const id = created.CreateAccountStatus?.AccountId as string;
    if (parentId !== this.rootId) {
      await this.organizations.send(
        new MoveAccountCommand({ AccountId: id, SourceParentId: this.rootId, DestinationParentId: parentId }),
      );
    }
    return id;
  }

  async close(accountId: string): Promise<void> {
    await this.organizations.send(new CloseAccountCommand({ AccountId: accountId }));
  }

  /** An EC2 client working in `account`: credentials of a role assumed there. */
  async ec2In(account: string, region: string): Promise<EC2Client> {
    const answer = await hubClients(this.endpoint).sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/test-seeder`, RoleSessionName: "seed" }),
    );
    const c = answer.Credentials;
    return new EC2Client({
      region,
      endpoint: this.endpoint,
      credentials: {
        accessKeyId: c?.AccessKeyId as string,
        secretAccessKey: c?.SecretAccessKey as string,
        sessionToken: c?.SessionToken,
      },
    });
  }
}

/** A snapshot in the client's region (its volume in that region's first zone). */
export async function snapshotIn(ec2: EC2Client, tags: Record<string, string> = {}): Promise<string> {
  const region = await ec2.config.region();
  const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1 }));
  const snapshot = await ec2.send(
    new CreateSnapshotCommand({
      VolumeId: volume.VolumeId,
      ...(Object.keys(tags).length > 0
        ? {
            TagSpecifications: [
              {
                ResourceType: "snapshot",
                Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
              },
            ],
          }
        : {}),
    }),
  );
  return snapshot.SnapshotId as string;
}

export interface Queues {
  targetsUrl: string;
  targetsArn: string;
  deadLettersUrl: string;
}

/** The targets queue and its dead-letter queue, shaped as the stack creates them. */
export async function createQueues(sqs: SQSClient, prefix: string, maxReceiveCount: number): Promise<Queues> {
  const arnOf = async (url: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
      .Attributes?.QueueArn as string;
  const deadLettersUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-org-targets-dlq` })))
    .QueueUrl as string;
  const targetsUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-org-targets`,
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: await arnOf(deadLettersUrl),
            maxReceiveCount,
          }),
        },
      }),
    )
  ).QueueUrl as string;
  return { targetsUrl, targetsArn: await arnOf(targetsUrl), deadLettersUrl };
}

/** Every message in a queue, left visible for the next receiver (each look counts as a receive). */
export async function peek(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const seen: Message[] = [];
  for (;;) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) {
      break;
    }
    seen.push(...messages);
  }
  for (let i = 0; i < seen.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: seen.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return seen;
}

/**
 * What Lambda's SQS event source mapping does, one poll at a time: receive up to `batchSize`
 * messages, invoke the function with them as an SQS event, delete those it did not report in
 * batchItemFailures (all of them stay when the invocation fails as a whole). A message left is
 * received again at once (visibility timeout 0), so SQS moves it to the dead-letter queue after
 * maxReceiveCount receives, as it would after as many visibility timeouts.
 */
export async function pollUntilEmpty(
  sqs: SQSClient,
  queues: Queues,
  batchSize: number,
  invoke: (event: unknown) => Promise<Invocation>,
): Promise<{ event: { Records: { messageId: string; body: string }[] }; invocation: Invocation }[]> {
  const polls: { event: { Records: { messageId: string; body: string }[] }; invocation: Invocation }[] = [];
  for (let guard = 0; guard < 100; guard++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.targetsUrl,
        MaxNumberOfMessages: batchSize,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) {
      return polls;
    }
    const event = {
      Records: messages.map((m) => ({
        messageId: m.MessageId as string,
        receiptHandle: m.ReceiptHandle,
        body: m.Body as string,
        attributes: m.Attributes ?? {},
        messageAttributes: {},
        md5OfBody: m.MD5OfBody,
        eventSource: "aws:sqs",
        eventSourceARN: queues.targetsArn,
        awsRegion: HUB_REGION,
      })),
    };
    const invocation = await invoke(event);
    polls.push({ event, invocation });
    const failed = invocation.ok
      ? ((invocation.response?.batchItemFailures ?? []) as { itemIdentifier: string }[]).map(
          (f) => f.itemIdentifier,
        )
      : messages.map((m) => m.MessageId as string);
    for (const message of messages.filter((m) => !failed.includes(m.MessageId as string))) {
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queues.targetsUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
  throw new Error("the queue did not empty in 100 polls");
}
