// Organization mode under Pulumi's mock runtime: every resource and policy of the hub and the
// StackSet, and the two serialized functions.
import { expect } from "chai";
import { deflateRawSync } from "node:zlib";
import { ENV } from "../handler/settings";
import { ORG_ENV } from "../handler/organizationSettings";
import { buildLedgerPolicy } from "../infra/iamPolicy";
import { buildMemberRoleTemplate } from "../infra/memberRoleTemplate";
import { MAX_RECEIVES } from "../infra/organizationHub";
import { buildDispatcherPolicy, buildWorkerPolicy } from "../infra/organizationPolicies";
import {
  ACCOUNT,
  ORGANIZATION_ID,
  findResource,
  lambdaArchive,
  loadStack,
  registered,
  type Registered,
  type StackOutputs,
} from "../local/pulumiMocks";

const REGION = "us-east-1";
const CONFIG = {
  "aws:region": REGION,
  organization: "true",
  organizationUnits: '["ou-ab12-prod0001","ou-ab12-dev00001"]',
  excludeAccounts: '["999999999999"]',
  excludeUnits: '["ou-ab12-sandbox1"]',
  regions: '["us-east-1","eu-west-1"]',
  workerConcurrency: "8",
  extraTags: '{"Owner":"platform"}',
};
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsOrgWorker-${REGION}`;
const arn = {
  targets: `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-org-targets`,
  deadLetters: `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-org-targets-dlq`,
  ledger: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/TagEC2Backups-org-ledger`,
  dispatcherLogs: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/TagEC2Backups-org-dispatcher`,
  workerLogs: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/TagEC2Backups-org-worker`,
  topic: `arn:aws:sns:${REGION}:${ACCOUNT}:TagEC2Backups-org-alarms`,
};

const byName = (type: string, name: string): Registered => findResource(type, name);
/** The worker role's unique ID, as the mocks give it. */
const workerRoleId = () =>
  `AROA${Buffer.from("organization-worker-role").toString("hex").toUpperCase().slice(0, 17)}`;
const policyOf = (name: string) => JSON.parse(byName("aws:iam/rolePolicy:RolePolicy", name).inputs.policy);

describe("organization mode under Pulumi's mock runtime", () => {
  let outputs: StackOutputs;

  before(async () => {
    outputs = await loadStack(CONFIG);
  });

  it("registers the hub, the member roles' StackSet and nothing of the single-account stack", () => {
    expect(registered.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "aws:cloudformation/stackSet:StackSet organization-members-stack-set",
      "aws:cloudformation/stackSetInstance:StackSetInstance organization-members-instances",
      "aws:cloudwatch/eventRule:EventRule organization-schedule",
      "aws:cloudwatch/eventTarget:EventTarget organization-target",
      "aws:cloudwatch/logGroup:LogGroup organization-dispatcher-logs",
      "aws:cloudwatch/logGroup:LogGroup organization-worker-logs",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-dispatch-errors",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-dispatch-failures",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-no-recent-sweep",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-targets-dead-lettered",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-targets-failed",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-targets-incomplete",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-targets-waiting",
      "aws:cloudwatch/metricAlarm:MetricAlarm organization-alarm-worker-errors",
      "aws:cloudwatch/queryDefinition:QueryDefinition organization-last-results",
      "aws:dynamodb/resourcePolicy:ResourcePolicy organization-ledger-policy",
      "aws:dynamodb/table:Table organization-ledger",
      "aws:iam/role:Role organization-dispatcher-role",
      "aws:iam/role:Role organization-worker-role",
      "aws:iam/rolePolicy:RolePolicy organization-dispatcher-policy",
      "aws:iam/rolePolicy:RolePolicy organization-worker-policy",
      "aws:lambda/eventSourceMapping:EventSourceMapping organization-worker-events",
      "aws:lambda/function:Function organization-dispatcher",
      "aws:lambda/function:Function organization-worker",
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig organization-dispatcher-async",
      "aws:lambda/layerVersion:LayerVersion organization-sdk-layer",
      "aws:lambda/permission:Permission organization-invoke",
      "aws:sns/topic:Topic organization-alarm-topic",
      "aws:sqs/queue:Queue organization-schedule-dlq",
      "aws:sqs/queue:Queue organization-targets",
      "aws:sqs/queue:Queue organization-targets-dlq",
      "aws:sqs/queuePolicy:QueuePolicy organization-schedule-dlq-policy",
      "ec2-backup-retention:index:MemberRoles organization-members",
      "ec2-backup-retention:index:OrganizationHub organization",
    ]);
    // One region's hub, on the default provider: the regions are worked in through the member roles.
    expect(registered.filter((r) => r.provider?.includes("aws-"))).to.deep.equal([]);
  });

  it("deploys the member role with a service-managed StackSet that follows the OUs by itself", () => {
    const stackSet = findResource("aws:cloudformation/stackSet:StackSet");
    expect(stackSet.inputs).to.deep.include({
      name: "TagEC2Backups-member-role",
      permissionModel: "SERVICE_MANAGED",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: "SELF",
      capabilities: ["CAPABILITY_NAMED_IAM"],
      managedExecution: { active: true },
    });
    expect(stackSet.inputs).not.to.have.property("administrationRoleArn");
    expect(stackSet.inputs).not.to.have.property("executionRoleName");
    const instances = findResource("aws:cloudformation/stackSetInstance:StackSetInstance");
    expect(instances.inputs).to.deep.equal({
      stackSetName: "TagEC2Backups-member-role",
      callAs: "SELF",
      deploymentTargets: { organizationalUnitIds: ["ou-ab12-prod0001", "ou-ab12-dev00001"] },
      // One region: the role is global.
      stackSetInstanceRegion: REGION,
    });
  });

  it("fills the template with the worker's exact role ARN, the organization and every region", () => {
    const template = JSON.parse(findResource("aws:cloudformation/stackSet:StackSet").inputs.templateBody);
    expect(template).to.deep.equal(
      buildMemberRoleTemplate({
        roleName: "TagEC2BackupsRole",
        workerRoleArn: WORKER_ROLE,
        workerRoleId: workerRoleId(),
        organizationId: ORGANIZATION_ID,
        regions: ["us-east-1", "eu-west-1"],
        tagKeys: ["Retention", "DeleteOn", "RetentionBatch", "Owner"],
        expire: false,
        retentionValue: "90days",
      }),
    );
    const trust = template.Resources.MemberRole.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).to.have.length(1);
    expect(trust[0].Principal).to.deep.equal({ AWS: WORKER_ROLE });
    expect(trust[0].Condition).to.deep.equal({ StringEquals: { "aws:PrincipalOrgID": ORGANIZATION_ID } });
    const sids = template.Resources.MemberRole.Properties.Policies[0].PolicyDocument.Statement.map(
      (s: { Sid: string }) => s.Sid,
    );
    expect(sids).to.deep.equal(["ListBackups", "TagBackups"]);
  });

  it("queues targets encrypted, hidden six timeouts while worked, and dead-letters them after a few receives", () => {
    const targets = byName("aws:sqs/queue:Queue", "organization-targets");
    expect(targets.inputs).to.deep.include({
      name: "TagEC2Backups-org-targets",
      sqsManagedSseEnabled: true,
      visibilityTimeoutSeconds: 6 * 300,
    });
    expect(JSON.parse(targets.inputs.redrivePolicy)).to.deep.equal({
      deadLetterTargetArn: arn.deadLetters,
      maxReceiveCount: MAX_RECEIVES,
    });
    expect(MAX_RECEIVES).to.be.within(2, 5);
    expect(byName("aws:sqs/queue:Queue", "organization-targets-dlq").inputs).to.deep.include({
      name: "TagEC2Backups-org-targets-dlq",
      messageRetentionSeconds: 1_209_600,
      sqsManagedSseEnabled: true,
    });
  });

  it("feeds the worker one target at a time, reporting failures per item, at bounded concurrency", () => {
    const mapping = findResource("aws:lambda/eventSourceMapping:EventSourceMapping");
    expect(mapping.inputs).to.deep.equal({
      eventSourceArn: arn.targets,
      functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups-org-worker`,
      batchSize: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: 8 },
    });
  });

  it("gives each function its own Lambda-trusted role and one inline policy scoped to what it does", () => {
    for (const [name, physical] of [
      ["organization-dispatcher-role", "TagEC2BackupsOrgDispatcher-us-east-1"],
      ["organization-worker-role", "TagEC2BackupsOrgWorker-us-east-1"],
    ]) {
      const role = byName("aws:iam/role:Role", name);
      expect(role.inputs.name).to.equal(physical);
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
    expect(registered.filter((r) => r.type.startsWith("aws:iam/rolePolicyAttachment"))).to.deep.equal([]);
    expect(policyOf("organization-dispatcher-policy")).to.deep.equal(
      buildDispatcherPolicy({ logGroupArn: arn.dispatcherLogs, targetQueueArn: arn.targets }),
    );
    expect(policyOf("organization-worker-policy")).to.deep.equal(
      buildWorkerPolicy({
        partition: "aws",
        logGroupArn: arn.workerLogs,
        targetQueueArn: arn.targets,
        ledgerTableArn: arn.ledger,
        memberRoleName: "TagEC2BackupsRole",
        organizationId: ORGANIZATION_ID,
      }),
    );
  });

  it("keeps one ledger in the hub that only the worker's role may write", () => {
    expect(findResource("aws:dynamodb/table:Table").inputs).to.deep.include({
      name: "TagEC2Backups-org-ledger",
      hashKey: "pk",
      deletionProtectionEnabled: true,
      pointInTimeRecovery: { enabled: true },
    });
    const policy = findResource("aws:dynamodb/resourcePolicy:ResourcePolicy").inputs;
    expect(JSON.parse(policy.policy)).to.deep.equal(
      buildLedgerPolicy({ tableArn: arn.ledger, writerRoleArn: WORKER_ROLE }),
    );
  });

  it("gives the dispatcher the organization's scope and the worker the tagger's settings plus the member role", () => {
    const dispatcher = byName("aws:lambda/function:Function", "organization-dispatcher").inputs;
    expect(dispatcher).to.deep.include({ name: "TagEC2Backups-org-dispatcher", runtime: "nodejs22.x" });
    expect(dispatcher.environment.variables).to.deep.equal({
      ORG_UNITS: '["ou-ab12-prod0001","ou-ab12-dev00001"]',
      ORG_INCLUDE_ACCOUNTS: "[]",
      ORG_EXCLUDE_ACCOUNTS: '["999999999999"]',
      ORG_EXCLUDE_UNITS: '["ou-ab12-sandbox1"]',
      ORG_REGIONS: '["us-east-1","eu-west-1"]',
      ORG_TARGET_QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/TagEC2Backups-org-targets`,
      METRICS_NAMESPACE: "TagEC2Backups",
    });
    const worker = byName("aws:lambda/function:Function", "organization-worker").inputs;
    expect(worker).to.deep.include({ name: "TagEC2Backups-org-worker", runtime: "nodejs22.x", timeout: 300 });
    const variables = worker.environment.variables;
    // Every setting the single-account function has, so the tagger core runs the same.
    expect(Object.keys(variables).sort()).to.deep.equal(
      [...Object.values(ENV), ORG_ENV.regions, ORG_ENV.memberRoleName, ORG_ENV.partition].sort(),
    );
    expect(variables).to.deep.include({
      LEDGER_TABLE: "TagEC2Backups-org-ledger",
      EXTRA_TAGS: '{"Owner":"platform"}',
      NOTICE_TOPIC_ARN: "",
      ORG_MEMBER_ROLE_NAME: "TagEC2BackupsRole",
      ORG_PARTITION: "aws",
    });
    for (const fn of [dispatcher, worker]) {
      expect(fn.loggingConfig).to.deep.include({ logFormat: "JSON", applicationLogLevel: "INFO" });
    }
  });

  it("runs both functions on organization mode's own pinned SDK layer", () => {
    const layer = byName("aws:lambda/layerVersion:LayerVersion", "organization-sdk-layer");
    expect(layer.inputs).to.deep.include({
      layerName: "TagEC2Backups-org-aws-sdk",
      compatibleRuntimes: ["nodejs22.x"],
    });
    for (const name of ["organization-dispatcher", "organization-worker"]) {
      expect(byName("aws:lambda/function:Function", name).inputs.layers, name).to.deep.equal([
        `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:TagEC2Backups-org-aws-sdk:1`,
      ]);
    }
  });

  for (const [resource, allowed] of [
    ["organization-dispatcher", ["@aws-sdk/client-organizations/", "@aws-sdk/client-sqs/"]],
    [
      "organization-worker",
      [
        "@aws-sdk/client-ec2/",
        "@aws-sdk/client-dynamodb/",
        "@aws-sdk/client-sns/",
        "@aws-sdk/client-sts/",
        "crypto",
      ],
    ],
  ] as const) {
    it(`uploads ${resource} as one serialized file that requires only the SDK clients it uses`, async () => {
      const files = await lambdaArchive(resource);
      expect(Object.keys(files)).to.deep.equal(["__index.js"]);
      const code = files["__index.js"];
      expect(deflateRawSync(Buffer.from(code)).length).to.be.below(64 * 1024);
      const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
      expect(required.filter((name) => !allowed.some((a) => name.startsWith(a)))).to.deep.equal([]);
      expect(code).not.to.match(/global\.(Set|Map)\.prototype/);
    });
  }

  it("runs the dispatcher on the schedule, with retries and a dead-letter queue for undelivered events", () => {
    expect(findResource("aws:cloudwatch/eventRule:EventRule").inputs).to.deep.include({
      name: "TagEC2Backups-OrgSweep",
      scheduleExpression: "rate(1 hour)",
    });
    const target = findResource("aws:cloudwatch/eventTarget:EventTarget").inputs;
    expect(target).to.deep.include({
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups-org-dispatcher`,
      deadLetterConfig: { arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-org-schedule-dlq` },
    });
    expect(findResource("aws:lambda/permission:Permission").inputs).to.deep.include({
      function: "TagEC2Backups-org-dispatcher",
      principal: "events.amazonaws.com",
      sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/TagEC2Backups-OrgSweep`,
    });
  });

  it("alarms on organization-wide totals only: failed, unfinished, waiting and dead-lettered targets", () => {
    const alarms = registered.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    const find = (key: string) => alarms.find((a) => a.name === `organization-alarm-${key}`)?.inputs;
    expect(find("targets-failed")).to.deep.include({
      namespace: "TagEC2Backups",
      metricName: "TargetsFailed",
      dimensions: { FunctionName: "TagEC2Backups-org-worker" },
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(find("targets-incomplete")).to.deep.include({ metricName: "TargetsIncomplete", threshold: 0 });
    expect(find("targets-dead-lettered")).to.deep.include({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: "TagEC2Backups-org-targets-dlq" },
    });
    expect(find("targets-waiting")).to.deep.include({
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: "TagEC2Backups-org-targets" },
      // alarmMissingRunHours, derived from the hourly schedule: one hour plus one.
      threshold: 2 * 3600,
    });
    for (const alarm of alarms) {
      // No per-account (or per-region) dimension, however large the organization.
      expect(Object.keys(alarm.inputs.dimensions ?? {}), alarm.name).to.satisfy((keys: string[]) =>
        keys.every((k) => k === "FunctionName" || k === "QueueName"),
      );
      expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([arn.topic]);
      expect(alarm.inputs.okActions, alarm.name).to.deep.equal([arn.topic]);
    }
  });

  it("saves a Logs Insights query of each target's last result over the worker's logs", () => {
    const query = findResource("aws:cloudwatch/queryDefinition:QueryDefinition").inputs;
    expect(query.name).to.equal("TagEC2Backups/organization-last-results");
    expect(query.logGroupNames).to.deep.equal(["/aws/lambda/TagEC2Backups-org-worker"]);
    expect(query.queryString).to.match(/^filter message = "target result"/);
    expect(query.queryString).to.include("by account, region");
    expect(query.queryString).to.include("latest(complete) as complete");
  });

  it("exports the hub's names and no single-account outputs", () => {
    expect(outputs.organization).to.deep.include({
      dispatcherFunctionName: "TagEC2Backups-org-dispatcher",
      workerFunctionName: "TagEC2Backups-org-worker",
      workerRoleArn: WORKER_ROLE,
      stackSetName: "TagEC2Backups-member-role",
      memberRoleName: "TagEC2BackupsRole",
      ledgerTableName: "TagEC2Backups-org-ledger",
      lastResultsQueryName: "TagEC2Backups/organization-last-results",
    });
    expect(outputs).not.to.have.property("functionName");
  });
});

describe("organization mode with expire, a delegated administrator and an existing topic", () => {
  const TOPIC = `arn:aws:sns:${REGION}:${ACCOUNT}:ops`;

  before(async () => {
    await loadStack({
      ...CONFIG,
      expire: "true",
      recycleBinDays: "0",
      retentionDays: "30",
      callAs: "DELEGATED_ADMIN",
      alarmTopicArn: TOPIC,
      memberRoleName: "BackupTaggerMember",
    });
  });

  it("adds the expiry statement to the member role, for the exact Retention, in every region", () => {
    const template = JSON.parse(findResource("aws:cloudformation/stackSet:StackSet").inputs.templateBody);
    const expiring = template.Resources.MemberRole.Properties.Policies[0].PolicyDocument.Statement.find(
      (s: { Sid: string }) => s.Sid === "ExpireOwnBackups",
    );
    expect(expiring.Condition.StringEquals).to.deep.equal({ "aws:ResourceTag/Retention": "30days" });
    expect(expiring.Resource).to.have.length(4);
    expect(template.Resources.MemberRole.Properties.RoleName).to.equal("BackupTaggerMember");
  });

  it("acts as the delegated administrator for the StackSet and its instances", () => {
    expect(findResource("aws:cloudformation/stackSet:StackSet").inputs.callAs).to.equal("DELEGATED_ADMIN");
    expect(findResource("aws:cloudformation/stackSetInstance:StackSetInstance").inputs.callAs).to.equal(
      "DELEGATED_ADMIN",
    );
  });

  it("lets the worker send deletion notices to the alarm topic and assume the renamed member role", () => {
    const worker = policyOf("organization-worker-policy");
    expect(worker.Statement.find((s: { Sid: string }) => s.Sid === "SendDeletionNotice").Resource).to.equal(
      TOPIC,
    );
    expect(worker.Statement[0].Resource).to.equal("arn:aws:iam::*:role/BackupTaggerMember");
    const variables = byName("aws:lambda/function:Function", "organization-worker").inputs.environment
      .variables;
    expect(variables).to.deep.include({ EXPIRE: "true", NOTICE_TOPIC_ARN: TOPIC, RETENTION_DAYS: "30" });
    expect(registered.filter((r) => r.type === "aws:sns/topic:Topic")).to.deep.equal([]);
    expect(registered.filter((r) => r.type === "aws:rbin/rule:Rule")).to.deep.equal([]);
  });
});

describe("organization mode's alarm topic given per region", () => {
  it("uses the topic alarmTopicArns gives for the hub's region, and creates none", async () => {
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:ops-us-east-1`;
    await loadStack({ ...CONFIG, alarmTopicArns: JSON.stringify({ [REGION]: topic }) });
    expect(registered.filter((r) => r.type === "aws:sns/topic:Topic")).to.deep.equal([]);
    const alarms = registered.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).to.have.length(8);
    expect(alarms.every((a) => a.inputs.alarmActions[0] === topic)).to.be.true;
  });
});
