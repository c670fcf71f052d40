// Organization mode's two functions with stubbed AWS clients: one target's run, the worker's
// partial batch response, the dispatcher's walk and messages, and both environments.
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { SQSClient, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { expect } from "chai";
import sinon from "sinon";
import { createDispatcher } from "../handler/dispatcher";
import { TARGET_RESULT, WORKER_METRICS } from "../handler/organizationMetrics";
import { parseDispatcherEnvironment, parseWorkerEnvironment } from "../handler/organizationSettings";
import {
  createWorker,
  runTarget,
  sqsRecords,
  targetLedger,
  targetScope,
  workerMetrics,
  type TargetPorts,
} from "../handler/worker";
import { MemoryLedger } from "../local/memoryLedger";
import { ec2Error, recordingLogger, stubEc2 } from "./support/ec2Stub";
import { emfLines, emfProblems } from "./support/emf";

const context = { getRemainingTimeInMillis: () => 300_000 };
const TARGET = { account: "222233334444", region: "eu-west-1" };
const SETTINGS = { retentionDays: 90, extraTags: {}, dryRun: false, safetyMarginMs: 1000 };
const CREDENTIALS = { accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "ST" };

function ports(ec2: EC2Client, overrides: Partial<TargetPorts> = {}) {
  const ledgers: MemoryLedger[] = [];
  const { log, lines } = recordingLogger();
  const p: TargetPorts = {
    assume: async () => CREDENTIALS,
    ec2For: () => ec2,
    ledgerFor: (target) => {
      const ledger = new MemoryLedger(targetScope(target));
      ledgers.push(ledger);
      return ledger;
    },
    clock: () => new Date("2026-03-01T12:00:00Z"),
    log,
    remainingMs: () => 300_000,
    ...overrides,
  };
  return { ports: p, ledgers, lines };
}

describe("organization worker: one target's run", () => {
  it("runs the tagger core with the member's EC2 client and a ledger bound to <account>/<region>", async () => {
    const ec2 = stubEc2({ images: [{ id: "ami-1" }], snapshots: [{ id: "snap-1" }, { id: "snap-2" }] });
    const { ports: p, ledgers } = ports(ec2.client);
    const result = await runTarget(TARGET, p, SETTINGS);
    expect(result).to.deep.include({
      account: TARGET.account,
      region: TARGET.region,
      complete: true,
      failed: false,
      amisTagged: 1,
      snapshotsTagged: 2,
      resourcesListed: 3,
      tagFailures: 0,
    });
    expect(ledgers.map((l) => l.scope)).to.deep.equal(["222233334444/eu-west-1"]);
    const entries = [...ledgers[0].entries.values()];
    expect(entries.every((e) => e.scope === "222233334444/eu-west-1")).to.be.true;
    expect(entries.flatMap((e) => [...(e.ids as Set<string>)]).sort()).to.deep.equal([
      "ami-1",
      "snap-1",
      "snap-2",
    ]);
    expect(ec2.snapshots.get("snap-1")).to.deep.include({ Key: "DeleteOn", Value: "2026-05-30" });
  });

  it("fails the target, and touches no EC2, when the member role cannot be assumed", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1" }] });
    const denied = Object.assign(new Error("not authorized to perform: sts:AssumeRole"), {
      name: "AccessDenied",
    });
    const { ports: p } = ports(ec2.client, {
      assume: async () => {
        throw denied;
      },
    });
    const result = await runTarget(TARGET, p, SETTINGS);
    expect(result).to.deep.include({
      failed: true,
      complete: false,
      errorCode: "AccessDenied",
      error: "not authorized to perform: sts:AssumeRole",
    });
    expect(ec2.send.called).to.be.false;
  });

  it("fails the target when listing is refused, and destroys the member's client either way", async () => {
    const ec2 = stubEc2();
    ec2.send.rejects(ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."));
    const destroy = sinon.spy(ec2.client, "destroy");
    const { ports: p } = ports(ec2.client);
    const result = await runTarget(TARGET, p, SETTINGS);
    expect(result).to.deep.include({ failed: true, errorCode: "UnauthorizedOperation" });
    expect(destroy.calledOnce).to.be.true;
  });

  it("reports a run stopped by time as incomplete, not failed: the message is not redelivered", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1" }] });
    const { ports: p } = ports(ec2.client, { remainingMs: () => 10 });
    const result = await runTarget(TARGET, p, SETTINGS);
    expect(result).to.deep.include({ failed: false, complete: false });
    expect(result.stopReason).to.match(/^time/);
  });

  it("keeps each target's state between runs apart in the one hub ledger, keyed by account and region", async () => {
    // One table for the organization, as DynamoDB would answer Put and Get by key.
    const items = new Map<string, Record<string, AttributeValue>>();
    const db = new DynamoDBClient({ region: "us-east-1" });
    sinon.stub(db, "send").callsFake(async (command: unknown) => {
      if (command instanceof PutItemCommand) {
        const item = command.input.Item as Record<string, AttributeValue>;
        items.set(item.pk.S as string, item);
        return {};
      }
      if (command instanceof GetItemCommand) {
        return { Item: items.get(command.input.Key?.pk.S as string) };
      }
      throw new Error("unexpected command");
    });
    const here = targetLedger(db, "ledger", TARGET);
    const otherRegion = targetLedger(db, "ledger", { ...TARGET, region: "us-east-1" });
    const otherAccount = targetLedger(db, "ledger", { ...TARGET, account: "555566667777" });
    expect([here.scope, otherRegion.scope, otherAccount.scope]).to.deep.equal([
      "222233334444/eu-west-1",
      "222233334444/us-east-1",
      "555566667777/eu-west-1",
    ]);

    await here.writeState("progress", "where eu-west-1 stopped");
    await otherRegion.writeState("progress", "where us-east-1 stopped");

    expect(await here.readState("progress")).to.equal("where eu-west-1 stopped");
    expect(await otherRegion.readState("progress")).to.equal("where us-east-1 stopped");
    expect(await otherAccount.readState("progress")).to.equal(undefined);
    expect([...items.keys()].sort()).to.deep.equal([
      "state#222233334444/eu-west-1#progress",
      "state#222233334444/us-east-1#progress",
    ]);
  });

  it("gives the tagger core the target's own ledger as its only store between runs", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1" }] });
    const asked: string[] = [];
    const { ports: p } = ports(ec2.client, {
      ledgerFor: (target) => {
        asked.push(targetScope(target));
        return new MemoryLedger(targetScope(target));
      },
    });
    await runTarget(TARGET, p, SETTINGS);
    await runTarget({ account: "555566667777", region: "us-east-1" }, p, SETTINGS);
    expect(asked).to.deep.equal(["222233334444/eu-west-1", "555566667777/us-east-1"]);
  });

  it("honours a manual run's dryRun carried by the message", async () => {
    const ec2 = stubEc2({ snapshots: [{ id: "snap-1" }] });
    const { ports: p } = ports(ec2.client);
    const result = await runTarget({ ...TARGET, dryRun: true }, p, SETTINGS);
    expect(result).to.deep.include({ dryRun: true, snapshotsTagged: 0, complete: true });
    expect(ec2.sent("CreateTagsCommand")).to.deep.equal([]);
  });

  it("adds targets up into organization-wide totals", () => {
    const base = { amisTagged: 1, snapshotsTagged: 2, resourcesListed: 5, tagFailures: 1 };
    // Incomplete means no full pass within the sweep period: a run stopped early whose pass is
    // still within the period does not count, a complete run whose last pass is too old does.
    const results = [
      { ...base, complete: true, fullPassWithinSweep: true, failed: false },
      { ...base, complete: false, fullPassWithinSweep: true, failed: false },
      { ...base, complete: true, fullPassWithinSweep: false, failed: false },
      { ...base, complete: false, fullPassWithinSweep: false, failed: true },
    ].map((r) => ({
      deletionBacklog: 0,
      ...TARGET,
      ...r,
      dryRun: false,
      durationMs: 1,
      resourcesSkipped: 0,
      failures: [],
      amisDeregistered: 0,
      snapshotsDeleted: 0,
      deletionFailures: 0,
      unprovenBackups: 0,
    }));
    expect(workerMetrics(results, 1)).to.deep.include({
      TargetsProcessed: 5,
      TargetsFailed: 2,
      TargetsIncomplete: 3,
      AmisTagged: 4,
      SnapshotsTagged: 8,
      ResourcesListed: 20,
      TagFailures: 4,
    });
  });

  it("takes SQS events only", () => {
    expect(sqsRecords({ Records: [{ messageId: "m1", body: "{}", extra: 1 }] })).to.deep.equal([
      { messageId: "m1", body: "{}" },
    ]);
    expect(() => sqsRecords({ detail: {} })).to.throw(
      /^Invalid invocation payload: the worker takes SQS events/,
    );
  });
});

describe("organization environments", () => {
  const worker = {
    RETENTION_DAYS: "90",
    METRICS_NAMESPACE: "TagEC2Backups",
    LEDGER_TABLE: "TagEC2Backups-org-ledger",
    ORG_REGIONS: '["us-east-1","eu-west-1"]',
    ORG_MEMBER_ROLE_NAME: "TagEC2BackupsRole",
    ORG_PARTITION: "aws",
  };
  const dispatcher = {
    ORG_UNITS: '["r-ab12"]',
    ORG_INCLUDE_ACCOUNTS: "[]",
    ORG_EXCLUDE_ACCOUNTS: '["111122223333"]',
    ORG_EXCLUDE_UNITS: "[]",
    ORG_REGIONS: '["us-east-1"]',
    ORG_TARGET_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/TagEC2Backups-org-targets",
    METRICS_NAMESPACE: "TagEC2Backups",
  };

  it("parses the worker's: the tagger's settings plus the member role", () => {
    expect(parseWorkerEnvironment(worker)).to.deep.include({
      retentionDays: 90,
      ledgerTable: "TagEC2Backups-org-ledger",
      regions: ["us-east-1", "eu-west-1"],
      memberRoleName: "TagEC2BackupsRole",
      partition: "aws",
    });
  });

  it("refuses a bad worker environment naming every bad variable, typos of the tagger's included", () => {
    expect(() =>
      parseWorkerEnvironment({
        ...worker,
        ORG_PARTITION: "azure",
        ORG_REGION: "x",
        DRYRUN: "true",
        RETENTION_DAYS: "0",
      }),
    ).to.throw(
      'Invalid environment: ORG_PARTITION="azure": must be an AWS partition (aws, aws-cn, aws-us-gov, ...); ORG_REGION="x": not a setting of this function',
    );
    let error: Error | undefined;
    try {
      parseWorkerEnvironment({ ...worker, DRYRUN: "true", RETENTION_DAYS: "0" });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).to.include('RETENTION_DAYS="0": must be an integer from 1 to 36500');
    expect(error?.message).to.include('DRYRUN="true": not a setting of this function; did you mean DRY_RUN?');
  });

  it("parses the dispatcher's, and refuses a bad one naming every bad variable", () => {
    expect(parseDispatcherEnvironment(dispatcher)).to.deep.equal({
      units: ["r-ab12"],
      includeAccounts: [],
      excludeAccounts: ["111122223333"],
      excludeUnits: [],
      regions: ["us-east-1"],
      queueUrl: dispatcher.ORG_TARGET_QUEUE_URL,
      metricsNamespace: "TagEC2Backups",
    });
    expect(() =>
      parseDispatcherEnvironment({ ...dispatcher, ORG_UNITS: "[]", ORG_TARGET_QUEUE_URL: "" }),
    ).to.throw(
      'Invalid environment: ORG_UNITS="[]": must list at least one root or OU IDs (r-..., ou-...); ORG_TARGET_QUEUE_URL="": must be an SQS queue URL',
    );
  });
});

describe("organization functions with stubbed clients", () => {
  const savedEnv = { ...process.env };
  let logged: string[];

  beforeEach(() => {
    process.env.AWS_REGION = "us-east-1";
    process.env.AWS_ACCESS_KEY_ID = "x";
    process.env.AWS_SECRET_ACCESS_KEY = "x";
    logged = [];
    sinon.stub(process.stdout, "write").callsFake((chunk: string | Uint8Array) => {
      logged.push(...String(chunk).split("\n").filter(Boolean));
      return true;
    });
  });

  afterEach(() => {
    sinon.restore();
    process.env = { ...savedEnv };
  });

  it("the worker tags each target as its own account, and reports only the failed one for redelivery", async () => {
    Object.assign(process.env, {
      AWS_LAMBDA_FUNCTION_NAME: "TagEC2Backups-org-worker",
      RETENTION_DAYS: "90",
      METRICS_NAMESPACE: "TagEC2Backups",
      LEDGER_TABLE: "TagEC2Backups-org-ledger",
      ORG_REGIONS: '["us-east-1","eu-west-1"]',
      ORG_MEMBER_ROLE_NAME: "TagEC2BackupsRole",
      ORG_PARTITION: "aws",
    });
    const assumed: string[] = [];
    sinon.stub(STSClient.prototype, "send").callsFake(async (command: unknown) => {
      const roleArn = (command as AssumeRoleCommand).input.RoleArn as string;
      assumed.push(roleArn);
      if (roleArn.includes("333333333333")) {
        throw Object.assign(new Error("not authorized to perform: sts:AssumeRole"), { name: "AccessDenied" });
      }
      const account = roleArn.split(":")[4];
      return { Credentials: { AccessKeyId: `key-${account}`, SecretAccessKey: "s", SessionToken: "t" } };
    });
    const tagged: string[] = [];
    sinon.stub(EC2Client.prototype, "send").callsFake(async function (this: EC2Client, command: unknown) {
      const { accessKeyId } = await this.config.credentials();
      const region = await this.config.region();
      if (command instanceof DescribeImagesCommand) {
        return { Images: [] };
      }
      if (command instanceof DescribeSnapshotsCommand) {
        return { Snapshots: [{ SnapshotId: `snap-${accessKeyId}-${region}` }] };
      }
      if (command instanceof CreateTagsCommand) {
        tagged.push(...(command.input.Resources ?? []));
        return {};
      }
      throw new Error("unexpected command");
    });
    const puts: string[] = [];
    sinon.stub(DynamoDBClient.prototype, "send").callsFake(async (command: unknown) => {
      // Proof entries; the sweep's place is a state item beside them.
      if (command instanceof PutItemCommand && command.input.Item?.pk?.S?.startsWith("batch#")) {
        puts.push(command.input.Item?.scope?.S as string);
      }
      return command instanceof BatchGetItemCommand ? { Responses: {} } : {};
    });

    const body = (account: string, region: string) => JSON.stringify({ account, region });
    const response = await createWorker()(
      {
        Records: [
          { messageId: "m1", body: body("222222222222", "eu-west-1") },
          { messageId: "m2", body: body("333333333333", "us-east-1") },
          { messageId: "m3", body: body("444444444444", "us-east-1") },
          { messageId: "m4", body: body("444444444444", "ap-south-1") },
        ],
      },
      context,
    );
    expect(response).to.deep.equal({
      batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m4" }],
    });
    expect(assumed.sort()).to.deep.equal([
      "arn:aws:iam::222222222222:role/TagEC2BackupsRole",
      "arn:aws:iam::333333333333:role/TagEC2BackupsRole",
      "arn:aws:iam::444444444444:role/TagEC2BackupsRole",
    ]);
    expect(tagged.sort()).to.deep.equal([
      "snap-key-222222222222-eu-west-1",
      "snap-key-444444444444-us-east-1",
    ]);
    expect(puts.sort()).to.deep.equal(["222222222222/eu-west-1", "444444444444/us-east-1"]);

    const results = logged.map((l) => JSON.parse(l)).filter((l) => l.message === TARGET_RESULT);
    expect(results.map((r) => [r.account, r.region, r.complete, r.failed, r.level]).sort()).to.deep.equal([
      ["222222222222", "eu-west-1", true, false, "INFO"],
      ["333333333333", "us-east-1", false, true, "ERROR"],
      ["444444444444", "us-east-1", true, false, "INFO"],
    ]);
    expect(results.every((r) => typeof r.timestamp === "string" && r.snapshotsTagged !== undefined)).to.be
      .true;
    // The tagger's own lines carry the target too.
    expect(logged.map((l) => JSON.parse(l)).find((l) => l.message === "tagged batch")).to.include.keys(
      "account",
      "region",
    );
    const [emf] = emfLines(logged.join("\n"));
    expect(emfProblems(JSON.stringify(emf))).to.deep.equal([]);
    expect(emf).to.deep.include({
      level: "INFO",
      FunctionName: "TagEC2Backups-org-worker",
      TargetsProcessed: 4,
      TargetsFailed: 2,
      TargetsIncomplete: 2,
      SnapshotsTagged: 2,
    });
    expect(Object.keys(emf)).to.include.members([...WORKER_METRICS, "timestamp"]);
  });

  it("the dispatcher walks the organization and queues one message per account and region, 10 a call", async () => {
    Object.assign(process.env, {
      AWS_LAMBDA_FUNCTION_NAME: "TagEC2Backups-org-dispatcher",
      ORG_UNITS: '["r-ab12"]',
      ORG_INCLUDE_ACCOUNTS: "[]",
      ORG_EXCLUDE_ACCOUNTS: '["999999999999"]',
      ORG_EXCLUDE_UNITS: '["ou-ab12-sandbox1"]',
      ORG_REGIONS: '["us-east-1","eu-west-1"]',
      ORG_TARGET_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/TagEC2Backups-org-targets",
      METRICS_NAMESPACE: "TagEC2Backups",
    });
    const tree: Record<string, { accounts: [string, string][]; units: string[] }> = {
      "r-ab12": { accounts: [["123456789012", "ACTIVE"]], units: ["ou-ab12-prod0001", "ou-ab12-sandbox1"] },
      "ou-ab12-prod0001": {
        accounts: [
          ...Array.from({ length: 6 }, (_, i): [string, string] => [`10000000000${i}`, "ACTIVE"]),
          ["999999999999", "ACTIVE"],
          ["555555555555", "SUSPENDED"],
        ],
        units: [],
      },
      "ou-ab12-sandbox1": { accounts: [["777777777777", "ACTIVE"]], units: [] },
    };
    const listed: string[] = [];
    sinon.stub(OrganizationsClient.prototype, "send").callsFake(async (command: unknown) => {
      if (command instanceof DescribeOrganizationCommand) {
        return { Organization: { MasterAccountId: "123456789012" } };
      }
      if (command instanceof ListAccountsForParentCommand) {
        const parent = command.input.ParentId as string;
        listed.push(parent);
        // Two pages, as the API may answer.
        const accounts = tree[parent].accounts.map(([Id, State]) => ({ Id, State }));
        return command.input.NextToken
          ? { Accounts: accounts.slice(3) }
          : { Accounts: accounts.slice(0, 3), NextToken: "more" };
      }
      if (command instanceof ListOrganizationalUnitsForParentCommand) {
        return { OrganizationalUnits: tree[command.input.ParentId as string].units.map((Id) => ({ Id })) };
      }
      throw new Error("unexpected command");
    });
    const batches: string[][] = [];
    sinon.stub(SQSClient.prototype, "send").callsFake(async (command: unknown) => {
      const entries = (command as SendMessageBatchCommand).input.Entries ?? [];
      batches.push(entries.map((e) => e.MessageBody as string));
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });

    const response = await createDispatcher()(
      { source: "aws.events", "detail-type": "Scheduled Event" },
      context,
    );
    expect(listed).not.to.include("ou-ab12-sandbox1");
    expect(batches.map((b) => b.length)).to.deep.equal([10, 2]);
    const sent = batches.flat().map((b) => JSON.parse(b));
    expect(sent).to.deep.equal(
      Array.from({ length: 6 }, (_, i) => [
        { account: `10000000000${i}`, region: "us-east-1" },
        { account: `10000000000${i}`, region: "eu-west-1" },
      ]).flat(),
    );
    expect(response).to.deep.include({
      accounts_listed: 9,
      accounts_skipped: 3,
      targets: 12,
      targets_dispatched: 12,
      dispatch_failures: 0,
    });
    const [emf] = emfLines(logged.join("\n"));
    expect(emfProblems(JSON.stringify(emf))).to.deep.equal([]);
    expect(emf).to.deep.include({
      level: "INFO",
      TargetsDispatched: 12,
      AccountsListed: 9,
      AccountsSkipped: 3,
    });

    // A manual dry run is carried to every target; a bad payload sends nothing.
    batches.length = 0;
    await createDispatcher()({ dryRun: true }, context);
    expect(batches.flat().every((b) => JSON.parse(b).dryRun === true)).to.be.true;
    batches.length = 0;
    let error: Error | undefined;
    await createDispatcher()({ dryRun: "yes" }, context).catch((e: Error) => (error = e));
    expect(error?.name).to.equal("InvalidPayload");
    expect(batches).to.deep.equal([]);
  });
});
