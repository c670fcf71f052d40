// Organization mode end to end: the exact code Pulumi would upload for the dispatcher and the
// worker, run in child Node.js processes against the emulator, over an organization of accounts
// in OUs. moto gives each account its own EC2 (reached through STS, as the worker does), and hosts
// the hub's Organizations, SQS queues and DynamoDB ledger.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { expect } from "chai";
import { TARGET_RESULT } from "../handler/organizationMetrics";
import { MAX_RECEIVES } from "../infra/organizationHub";
import { invokeArchiveAsync, unpackArchive, type Invocation } from "../local/invokeLambda";
import { createLedgerTable, emulatorDynamo } from "../local/ledgerTable";
import { INSTALL_HINT, motoInstalled, startMoto, type Emulator } from "../local/motoServer";
import { findResource, lambdaArchive, loadStack, sdkLayerDir } from "../local/pulumiMocks";
import { tagsById } from "../local/seedAccount";
import { startProxy, type Proxy } from "./support/ec2Proxy";
import { emfLines, emfProblems } from "./support/emf";
import {
  EmulatedOrganization,
  createQueues,
  hubClients,
  peek,
  pollUntilEmpty,
  snapshotIn,
  type Queues,
} from "./support/organizationEmulator";

const inCi = process.env.CI === "true";
const PREFIX = "TagEC2Backups";
const LEDGER = `${PREFIX}-org-ledger`;
const REGIONS = ["us-east-1", "eu-west-1"];
/** Which account the proxy refuses AssumeRole into, as STS does when the member role is missing. */
let refuseAssumeInto: string | undefined;

const accessDenied = (roleArn: string) => ({
  status: 403,
  body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::123456789012:assumed-role/TagEC2BackupsOrgWorker-us-east-1/worker is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>denied</RequestId></ErrorResponse>`,
});

interface Organization {
  prod: string;
  web: string;
  dev: string;
  sandbox: string;
  /** In scope: prod, prod/web (nested) and dev. */
  inScope: string[];
  /** In dev, but listed in excludeAccounts. */
  excluded: string;
  /** In the excluded OU dev/sandbox. */
  inExcludedUnit: string;
  /** In prod, closed: SUSPENDED. */
  suspended: string;
  /** At the root, outside the configured OUs. */
  atRoot: string;
}

describe("organization mode end to end: the serialized dispatcher and worker on the emulator", function () {
  this.timeout(240_000);
  let emulator: Emulator;
  let proxy: Proxy;
  let sqs: SQSClient;
  const archives: Record<string, { dir: string; remove: () => void }> = {};
  const environments: Record<string, Record<string, string>> = {};
  let batchSize: number;
  let layerDir: string;

  before(async function () {
    if (!motoInstalled()) {
      if (inCi) {
        throw new Error(`${INSTALL_HINT}; CI must run the emulator tests`);
      }
      this.skip();
    }
    emulator = await startMoto();
    proxy = await startProxy(emulator.endpoint, {
      intercept(action, params) {
        const roleArn = params.get("RoleArn") ?? "";
        return action === "AssumeRole" && refuseAssumeInto && roleArn.includes(`::${refuseAssumeInto}:`)
          ? accessDenied(roleArn)
          : undefined;
      },
    });
    sqs = hubClients(emulator.endpoint).sqs;
    // The stack's real config; the organization's IDs are the emulator's, set in the environment below.
    await loadStack({
      "aws:region": "us-east-1",
      organization: "true",
      organizationUnits: '["r-ab12"]',
      regions: JSON.stringify(REGIONS),
      extraTags: '{"Owner":"platform"}',
    });
    for (const role of ["dispatcher", "worker"]) {
      archives[role] = unpackArchive(await lambdaArchive(`organization-${role}`));
      environments[role] = findResource(
        "aws:lambda/function:Function",
        `organization-${role}`,
      ).inputs.environment.variables;
    }
    batchSize = findResource("aws:lambda/eventSourceMapping:EventSourceMapping").inputs.batchSize;
    // Both functions get the SDK from organization mode's layer only, as in Lambda.
    layerDir = await sdkLayerDir("organization-sdk-layer");
  });

  after(async () => {
    await proxy?.close();
    await emulator?.stop();
    Object.values(archives).forEach((a) => a.remove());
  });

  /** An empty emulator holding the organization, the hub's queues and ledger. */
  async function freshOrganization(): Promise<{
    org: Organization;
    queues: Queues;
    emulated: EmulatedOrganization;
  }> {
    await emulator.reset();
    refuseAssumeInto = undefined;
    const emulated = new EmulatedOrganization(emulator.endpoint);
    await emulated.create();
    const prod = await emulated.unit("prod");
    const web = await emulated.unit("web", prod);
    const dev = await emulated.unit("dev");
    const sandbox = await emulated.unit("sandbox", dev);
    const org: Organization = {
      prod,
      web,
      dev,
      sandbox,
      inScope: [
        await emulated.account("prod-a", prod),
        await emulated.account("web-b", web),
        await emulated.account("dev-c", dev),
      ],
      excluded: await emulated.account("dev-excluded", dev),
      inExcludedUnit: await emulated.account("sandbox-y", sandbox),
      suspended: await emulated.account("prod-closed", prod),
      atRoot: await emulated.account("root-r"),
    };
    await emulated.close(org.suspended);
    const queues = await createQueues(sqs, PREFIX, MAX_RECEIVES);
    await createLedgerTable(emulator.endpoint, LEDGER);
    return { org, queues, emulated };
  }

  /** One untagged and one hand-tagged snapshot in every account and region. */
  async function seed(emulated: EmulatedOrganization, org: Organization) {
    const clients: Record<string, EC2Client> = {};
    const untagged: Record<string, string> = {};
    for (const account of [...org.inScope, org.excluded, org.inExcludedUnit, org.suspended, org.atRoot]) {
      for (const region of REGIONS) {
        const ec2 = await emulated.ec2In(account, region);
        clients[`${account}/${region}`] = ec2;
        untagged[`${account}/${region}`] = await snapshotIn(ec2);
        await snapshotIn(ec2, { Retention: "keep" });
      }
    }
    return { clients, untagged };
  }

  async function allTags(clients: Record<string, EC2Client>) {
    const tags: Record<string, Record<string, Record<string, string>>> = {};
    for (const [target, ec2] of Object.entries(clients)) {
      tags[target] = await tagsById(ec2);
    }
    return tags;
  }

  function invoke(role: "dispatcher" | "worker", queues: Queues, payload?: unknown): Promise<Invocation> {
    return invokeArchiveAsync([process.execPath], archives[role].dir, layerDir, {
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_LAMBDA_FUNCTION_NAME: `${PREFIX}-org-${role}`,
      ...environments[role],
      ...(role === "dispatcher" ? { ORG_TARGET_QUEUE_URL: queues.targetsUrl } : {}),
      ...(payload === undefined ? {} : { INVOKE_PAYLOAD: JSON.stringify(payload) }),
    });
  }

  function dispatch(org: Organization, queues: Queues): Promise<Invocation> {
    environments.dispatcher = {
      ...environments.dispatcher,
      ORG_UNITS: JSON.stringify([org.prod, org.dev]),
      ORG_EXCLUDE_ACCOUNTS: JSON.stringify([org.excluded]),
      ORG_EXCLUDE_UNITS: JSON.stringify([org.sandbox]),
    };
    return invoke("dispatcher", queues);
  }

  const work = (queues: Queues) =>
    pollUntilEmpty(sqs, queues, batchSize, (event) => invoke("worker", queues, event));

  const resultLines = (polls: { invocation: Invocation }[]) =>
    polls.flatMap(({ invocation }) =>
      invocation.stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line))
        .filter((line) => line.message === TARGET_RESULT),
    );

  async function ledgerItems(): Promise<{ scope: string; ids: string[] }[]> {
    const items =
      (await emulatorDynamo(emulator.endpoint).send(new ScanCommand({ TableName: LEDGER }))).Items ?? [];
    return items
      .filter((item) => item.pk?.S?.startsWith("batch#"))
      .map((item) => ({ scope: item.scope?.S as string, ids: item.ids?.SS ?? [] }));
  }

  describe("a sweep of an organization of four OUs", () => {
    let org: Organization;
    let queues: Queues;
    let seeded: Awaited<ReturnType<typeof seed>>;
    let before: Awaited<ReturnType<typeof allTags>>;
    let dispatched: Invocation;

    const expected = () =>
      org.inScope.flatMap((account) => REGIONS.map((region) => `${account}/${region}`)).sort();

    it("the dispatcher queues exactly the in-scope targets: every account under the OUs, times every region", async () => {
      const fresh = await freshOrganization();
      [org, queues] = [fresh.org, fresh.queues];
      seeded = await seed(fresh.emulated, org);
      before = await allTags(seeded.clients);
      dispatched = await dispatch(org, queues);
      expect(dispatched.error).to.equal(undefined);
      expect(dispatched.response).to.deep.include({
        targets: 6,
        targets_dispatched: 6,
        dispatch_failures: 0,
      });
      const skipped = Object.fromEntries(
        (dispatched.response?.skipped as { account: string; reason: string }[]).map((s) => [
          s.account,
          s.reason,
        ]),
      );
      expect(skipped).to.deep.equal({
        [org.excluded]: "listed in excludeAccounts",
        [org.suspended]: "state SUSPENDED",
      });
      const bodies = (await peek(sqs, queues.targetsUrl)).map((m) => JSON.parse(m.Body as string));
      expect(bodies.map((b) => `${b.account}/${b.region}`).sort()).to.deep.equal(expected());
      const [metrics] = emfLines(dispatched.stdout);
      expect(emfProblems(JSON.stringify(metrics))).to.deep.equal([]);
      expect(metrics).to.deep.include({ level: "INFO", TargetsDispatched: 6, AccountsSkipped: 2 });
    });

    it("the worker tags each in-scope account's backups in each region, with proof bound to that account and region", async () => {
      const polls = await work(queues);
      expect(polls).to.have.length(6);
      for (const { invocation } of polls) {
        expect(invocation.error).to.equal(undefined);
        expect(invocation.response).to.deep.equal({ batchItemFailures: [] });
      }
      const after = await allTags(seeded.clients);
      const items = await ledgerItems();
      for (const target of expected()) {
        const id = seeded.untagged[target];
        const tags = after[target][id];
        expect(tags, target).to.include({ Retention: "90days", Owner: "platform" });
        expect(tags.DeleteOn, target).to.match(/^\d{4}-\d{2}-\d{2}$/);
        // The entry its batch tag names holds it, in this account and region's scope alone.
        const entry = items.find((i) => i.ids.includes(id));
        expect(entry?.scope, target).to.equal(target);
        // Hand tags are left alone.
        const handTagged = Object.entries(after[target]).find(([, t]) => t.Retention === "keep");
        expect(handTagged?.[1], target).to.deep.equal({ Retention: "keep" });
      }
      expect([...new Set(items.map((i) => i.scope))].sort()).to.deep.equal(expected());
      const lines = resultLines(polls);
      expect(lines.map((l) => `${l.account}/${l.region}`).sort()).to.deep.equal(expected());
      for (const line of lines) {
        expect(line).to.deep.include({
          level: "INFO",
          complete: true,
          failed: false,
          snapshotsTagged: 1,
          tagFailures: 0,
        });
        expect(line.timestamp).to.be.a("string");
      }
      for (const { invocation } of polls) {
        const [metrics] = emfLines(invocation.stdout);
        expect(emfProblems(JSON.stringify(metrics))).to.deep.equal([]);
        expect(metrics).to.deep.include({
          level: "INFO",
          TargetsProcessed: 1,
          TargetsFailed: 0,
          SnapshotsTagged: 1,
        });
      }
    });

    it("touches nothing in the excluded, suspended, excluded-OU and out-of-scope accounts", async () => {
      const after = await allTags(seeded.clients);
      for (const account of [org.excluded, org.inExcludedUnit, org.suspended, org.atRoot]) {
        for (const region of REGIONS) {
          expect(after[`${account}/${region}`], `${account}/${region}`).to.deep.equal(
            before[`${account}/${region}`],
          );
        }
      }
    });

    it("a second sweep changes nothing and records no new proof", async () => {
      const tagsBefore = await allTags(seeded.clients);
      const entriesBefore = (await ledgerItems()).length;
      const again = await dispatch(org, queues);
      expect(again.response).to.deep.include({ targets_dispatched: 6 });
      const polls = await work(queues);
      expect(polls.every(({ invocation }) => invocation.response?.batchItemFailures.length === 0)).to.be.true;
      expect(await allTags(seeded.clients)).to.deep.equal(tagsBefore);
      expect((await ledgerItems()).length).to.equal(entriesBefore);
      for (const line of resultLines(polls)) {
        expect(line).to.deep.include({ complete: true, failed: false, snapshotsTagged: 0, amisTagged: 0 });
      }
    });
  });

  describe("a target whose member role cannot be assumed", () => {
    it("is reported in batchItemFailures on each receive, then lands in the dead-letter queue, and the others are tagged", async () => {
      const { org, queues, emulated } = await freshOrganization();
      const seeded = await seed(emulated, org);
      const failing = org.inScope[1];
      refuseAssumeInto = failing;
      expect((await dispatch(org, queues)).response).to.deep.include({ targets_dispatched: 6 });
      const polls = await work(queues);

      // The failing account's two targets: delivered MAX_RECEIVES times each, reported every time.
      const failingPolls = polls.filter(({ event }) => JSON.parse(event.Records[0].body).account === failing);
      expect(failingPolls).to.have.length(2 * MAX_RECEIVES);
      for (const { event, invocation } of failingPolls) {
        expect(invocation.response).to.deep.equal({
          batchItemFailures: [{ itemIdentifier: event.Records[0].messageId }],
        });
        const [line] = resultLines([{ invocation }]);
        expect(line).to.deep.include({
          level: "ERROR",
          failed: true,
          complete: false,
          errorCode: "AccessDenied",
        });
      }
      const deadLetters = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.deadLettersUrl, MaxNumberOfMessages: 10 }),
      );
      expect(
        (deadLetters.Messages ?? [])
          .map((m) => JSON.parse(m.Body as string))
          .map((b) => `${b.account}/${b.region}`)
          .sort(),
      ).to.deep.equal(REGIONS.map((region) => `${failing}/${region}`).sort());

      const after = await allTags(seeded.clients);
      for (const account of org.inScope) {
        for (const region of REGIONS) {
          const tags = after[`${account}/${region}`][seeded.untagged[`${account}/${region}`]];
          if (account === failing) {
            expect(tags, `${account}/${region}`).to.deep.equal({});
          } else {
            expect(tags, `${account}/${region}`).to.include({ Retention: "90days" });
          }
        }
      }
    });
  });
});
