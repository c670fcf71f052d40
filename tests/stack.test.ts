import { expect } from "chai";
import { deflateRawSync } from "node:zlib";
import { EVERY_KEY_SET } from "./support/fixtures";
import {
  ACCOUNT,
  findResource,
  lambdaArchive,
  loadStack,
  registered,
  type StackOutputs,
} from "../local/pulumiMocks";

const REGION = "eu-west-1";

describe("stack under Pulumi's mock runtime", () => {
  let outputs: StackOutputs;

  before(async () => {
    outputs = await loadStack({ "aws:region": REGION });
  });

  it("registers the components and exactly their children", () => {
    expect(registered.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "aws:cloudwatch/dashboard:Dashboard tagger-eu-west-1-monitoring-dashboard",
      "aws:cloudwatch/eventRule:EventRule tagger-eu-west-1-schedule",
      "aws:cloudwatch/eventTarget:EventTarget tagger-eu-west-1-target",
      "aws:cloudwatch/logGroup:LogGroup tagger-eu-west-1-logs",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-deletion-backlog",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-duration",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-error-rate",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-errors",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-filter-check",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-incomplete-run",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-no-recent-run",
      "aws:cloudwatch/metricAlarm:MetricAlarm tagger-eu-west-1-monitoring-alarm-tag-failures",
      "aws:dynamodb/resourcePolicy:ResourcePolicy tagger-eu-west-1-ledger-policy",
      "aws:dynamodb/table:Table tagger-eu-west-1-ledger",
      "aws:iam/role:Role tagger-eu-west-1-role",
      "aws:iam/rolePolicy:RolePolicy tagger-eu-west-1-policy",
      "aws:lambda/function:Function tagger-eu-west-1-function",
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig tagger-eu-west-1-async",
      "aws:lambda/layerVersion:LayerVersion tagger-eu-west-1-sdk-layer",
      "aws:lambda/permission:Permission tagger-eu-west-1-invoke",
      "aws:sns/topic:Topic tagger-eu-west-1-monitoring-alarm-topic",
      "aws:sqs/queue:Queue tagger-eu-west-1-failed-runs",
      "aws:sqs/queue:Queue tagger-eu-west-1-schedule-dlq",
      "aws:sqs/queuePolicy:QueuePolicy tagger-eu-west-1-schedule-dlq-policy",
      "ec2-backup-retention:index:BackupTagger tagger-eu-west-1",
      "ec2-backup-retention:index:TaggerMonitoring tagger-eu-west-1-monitoring",
    ]);
  });

  it("names the role after the seed, per region, trusted by Lambda only, with nothing attached", () => {
    const role = findResource("aws:iam/role:Role");
    expect(role.inputs.name).to.equal(`TagEC2BackupsLambdaRole-${REGION}`);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(role.inputs).not.to.have.property("managedPolicyArns");
    expect(
      registered
        .filter((r) => r.type.startsWith("aws:iam/") && r.type !== "aws:iam/role:Role")
        .map((r) => r.type),
    ).to.deep.equal(["aws:iam/rolePolicy:RolePolicy"]);
  });

  it("gives the role one inline policy: least privilege, scoped by ARN, tag keys and log group", () => {
    const policy = findResource("aws:iam/rolePolicy:RolePolicy");
    expect(policy.inputs.role).to.equal(`tagger-${REGION}-role-id`);
    const document = JSON.parse(policy.inputs.policy);
    const actions: string[] = document.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.every((a) => !a.includes("*"))).to.be.true;
    // expire is off by default: no deletion rights at all.
    expect(actions).not.to.include("ec2:DeregisterImage");
    expect(actions).not.to.include("ec2:DeleteSnapshot");
    const tagging = document.Statement.find((s: { Action: string[] }) => s.Action.includes("ec2:CreateTags"));
    expect(tagging.Resource).to.deep.equal([
      `arn:aws:ec2:${REGION}::image/*`,
      `arn:aws:ec2:${REGION}::snapshot/*`,
    ]);
    expect(tagging.Condition["ForAllValues:StringEquals"]["aws:TagKeys"]).to.deep.equal([
      "DeleteOn",
      "Retention",
      "RetentionBatch",
    ]);
    const logs = document.Statement.find((s: { Action: string[] }) => s.Action.includes("logs:PutLogEvents"));
    expect(logs.Resource).to.equal(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/TagEC2Backups:*`);
  });

  it("creates the log group the function logs to, with the configured retention", () => {
    const logGroup = findResource("aws:cloudwatch/logGroup:LogGroup");
    expect(logGroup.inputs).to.deep.include({ name: "/aws/lambda/TagEC2Backups", retentionInDays: 14 });
    const fn = findResource("aws:lambda/function:Function");
    // An input taken from the group's output: Pulumi creates the group first.
    expect(fn.inputs.loggingConfig).to.deep.include({ logGroup: "/aws/lambda/TagEC2Backups" });
  });

  it("pins the function's runtime, memory, timeout, role and environment", () => {
    const fn = findResource("aws:lambda/function:Function");
    expect(fn.inputs).to.deep.include({
      name: "TagEC2Backups",
      runtime: "nodejs22.x",
      handler: "__index.handler",
      memorySize: 1024,
      timeout: 300,
      role: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}`,
    });
    expect(fn.inputs.environment.variables).to.deep.equal({
      RETENTION_DAYS: "90",
      EXTRA_TAGS: "{}",
      DRY_RUN: "false",
      METRICS_NAMESPACE: "TagEC2Backups",
      INCLUDE_TAGS: "{}",
      EXCLUDE_TAGS: "{}",
      MANAGE_AMIS: "true",
      MANAGE_SNAPSHOTS: "true",
      DELETE_ON_FROM: "first-seen",
      EXPIRE: "false",
      EXPIRE_GRACE_DAYS: "1",
      MAX_DELETIONS_PER_RUN: "1000",
      SWEEP_HOURS: "24",
      EXPIRE_NOTICE_DAYS: "7",
      ADOPT_UNPROVEN_TAGS: "false",
      LEDGER_TABLE: "TagEC2Backups-ledger",
      NOTICE_TOPIC_ARN: "",
    });
    expect(fn.inputs).not.to.have.property("reservedConcurrentExecutions");
  });

  it("keeps the proof in a ledger table only the function's role may write, backed up and cleaned by TTL", () => {
    const table = findResource("aws:dynamodb/table:Table").inputs;
    expect(table).to.deep.include({
      name: "TagEC2Backups-ledger",
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attributes: [{ name: "pk", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: true,
    });
    const policy = findResource("aws:dynamodb/resourcePolicy:ResourcePolicy").inputs;
    const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/TagEC2Backups-ledger`;
    expect(policy.resourceArn).to.equal(tableArn);
    const [deny] = JSON.parse(policy.policy).Statement;
    expect(deny).to.deep.include({ Effect: "Deny", Principal: "*", Resource: tableArn });
    expect(deny.Action).to.include.members([
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
    ]);
    expect(deny.Condition).to.deep.equal({
      ArnNotEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}` },
    });
    const role = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy).Statement.find(
      (st: { Sid: string }) => st.Sid === "RecordAndReadProof",
    );
    expect(role).to.deep.include({ Resource: tableArn });
  });

  it("creates no Recycle Bin rules while expiry is off", () => {
    expect(registered.filter((r) => r.type === "aws:rbin/rule:Rule")).to.have.length(0);
  });

  it("uploads only the serialized handler, its zip well under the 64 KB budget", async () => {
    const files = await lambdaArchive();
    expect(Object.keys(files)).to.deep.equal(["__index.js"]);
    expect(deflateRawSync(Buffer.from(files["__index.js"])).length).to.be.below(64 * 1024);
  });

  it("serializes a handler that requires nothing but the SDK clients it uses and Node's crypto", async () => {
    const code = (await lambdaArchive())["__index.js"];
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).to.be.greaterThan(0);
    const allowed = ["@aws-sdk/client-ec2/", "@aws-sdk/client-dynamodb/", "@aws-sdk/client-sns/"];
    expect(
      required.filter((name) => name !== "crypto" && !allowed.some((a) => name.startsWith(a))),
    ).to.deep.equal([]);
    expect(required.every((name) => Boolean(require.resolve(name)))).to.be.true;
    // A module-level Set or Map is captured as an empty object with borrowed methods: a silent bug.
    expect(code).not.to.match(/global\.(Set|Map)\.prototype/);
    expect(code).to.match(/exports\.handler = __createHandler\(\);/);
  });

  it("schedules the function with a rule named after the seed's, allowed to invoke it and nothing else", () => {
    const rule = findResource("aws:cloudwatch/eventRule:EventRule");
    expect(rule.inputs).to.deep.include({
      name: "TagEC2Backups-DailyEC2BackupTagger",
      scheduleExpression: "rate(1 hour)",
    });
    const target = findResource("aws:cloudwatch/eventTarget:EventTarget");
    expect(target.inputs).to.deep.include({
      rule: "TagEC2Backups-DailyEC2BackupTagger",
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups`,
    });
    const permission = findResource("aws:lambda/permission:Permission");
    expect(permission.inputs).to.deep.include({
      action: "lambda:InvokeFunction",
      function: "TagEC2Backups",
      principal: "events.amazonaws.com",
      sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/TagEC2Backups-DailyEC2BackupTagger`,
    });
  });

  it("exports what operators look for", () => {
    expect(outputs).to.deep.equal({
      functionName: "TagEC2Backups",
      functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}`,
      logGroupName: "/aws/lambda/TagEC2Backups",
      ruleName: "TagEC2Backups-DailyEC2BackupTagger",
      schedule: "rate(1 hour)",
      retentionDays: 90,
      failedRunsQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/TagEC2Backups-failed-runs`,
      alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:TagEC2Backups-alarms`,
      dashboardName: `TagEC2Backups-${REGION}`,
      ledgerTableName: "TagEC2Backups-ledger",
      regions: {
        [REGION]: {
          functionName: "TagEC2Backups",
          functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups`,
          roleArn: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}`,
          logGroupName: "/aws/lambda/TagEC2Backups",
          ruleName: "TagEC2Backups-DailyEC2BackupTagger",
          failedRunsQueueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/TagEC2Backups-failed-runs`,
          alarmTopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:TagEC2Backups-alarms`,
          dashboardName: `TagEC2Backups-${REGION}`,
          ledgerTableName: "TagEC2Backups-ledger",
        },
      },
    });
  });
});

describe("operations under Pulumi's mock runtime", () => {
  before(async () => {
    await loadStack({ "aws:region": REGION });
  });

  const alarm = (key: string) =>
    findResource("aws:cloudwatch/metricAlarm:MetricAlarm", `tagger-${REGION}-monitoring-alarm-${key}`).inputs;
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:TagEC2Backups-alarms`;
  const lambdaMetric = { namespace: "AWS/Lambda", dimensions: { FunctionName: "TagEC2Backups" } };
  const ourMetric = { namespace: "TagEC2Backups", dimensions: { FunctionName: "TagEC2Backups" } };

  it("alarms on any failed run", () => {
    expect(alarm("errors")).to.deep.include({
      name: "TagEC2Backups-Errors",
      ...lambdaMetric,
      metricName: "Errors",
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    });
  });

  it("alarms when a run takes longer than alarmDurationSeconds", () => {
    expect(alarm("duration")).to.deep.include({
      ...lambdaMetric,
      metricName: "Duration",
      statistic: "Maximum",
      period: 3600,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 60_000,
      treatMissingData: "notBreaching",
    });
  });

  it("alarms after 2 hours without an invocation (hourly schedule), counting missing data as breaching", () => {
    expect(alarm("no-recent-run")).to.deep.include({
      name: "TagEC2Backups-NoRecentRun",
      ...lambdaMetric,
      metricName: "Invocations",
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
  });

  it("alarms on an error rate above 5% with metric math", () => {
    const rate = alarm("error-rate");
    expect(rate).to.deep.include({
      comparisonOperator: "GreaterThanThreshold",
      threshold: 5,
      evaluationPeriods: 1,
    });
    expect(rate).not.to.have.property("metricName");
    const [errors, invocations, expression] = rate.metricQueries;
    expect(errors).to.deep.include({ id: "errors", returnData: false });
    expect(errors.metric).to.deep.include({
      ...lambdaMetric,
      metricName: "Errors",
      stat: "Sum",
      period: 86400,
    });
    expect(invocations.metric).to.deep.include({ metricName: "Invocations", stat: "Sum", period: 86400 });
    expect(expression).to.deep.include({
      id: "rate",
      expression: "IF(invocations > 0, 100 * errors / invocations, 0)",
      returnData: true,
    });
  });

  it("alarms on tag failures, on no full pass within the sweep period, on a deletion backlog and on filter checks", () => {
    expect(alarm("tag-failures")).to.deep.include({
      ...ourMetric,
      metricName: "TagFailures",
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(alarm("incomplete-run")).to.deep.include({
      ...ourMetric,
      metricName: "SweepComplete",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
    });
    expect(alarm("deletion-backlog")).to.deep.include({
      ...ourMetric,
      metricName: "DeletionBacklog",
      statistic: "Minimum",
      period: 86400,
      evaluationPeriods: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
    expect(alarm("filter-check")).to.deep.include({
      ...ourMetric,
      metricName: "FilterCheckFailures",
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
  });

  it("notifies the stack's topic on ALARM and on OK, every alarm", () => {
    expect(findResource("aws:sns/topic:Topic").inputs).to.deep.include({ name: "TagEC2Backups-alarms" });
    const alarms = registered.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms).to.have.length(8);
    for (const a of alarms) {
      expect(a.inputs.alarmActions, a.name).to.deep.equal([topicArn]);
      expect(a.inputs.okActions, a.name).to.deep.equal([topicArn]);
      expect(a.inputs.alarmDescription, a.name).to.be.a("string").and.not.be.empty;
    }
    expect(registered.filter((r) => r.type === "aws:sns/topicSubscription:TopicSubscription")).to.have.length(
      0,
    );
  });

  it("retries failed asynchronous runs twice, then keeps them 14 days in an encrypted queue", () => {
    const queue = findResource("aws:sqs/queue:Queue", `tagger-${REGION}-failed-runs`).inputs;
    expect(queue).to.deep.include({
      name: "TagEC2Backups-failed-runs",
      messageRetentionSeconds: 1_209_600,
      sqsManagedSseEnabled: true,
    });
    expect(
      findResource("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig").inputs,
    ).to.deep.equal({
      functionName: "TagEC2Backups",
      maximumRetryAttempts: 2,
      maximumEventAgeInSeconds: 3600,
      destinationConfig: {
        onFailure: { destination: `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-failed-runs` },
      },
    });
    const policy = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    const send = policy.Statement.find((s: { Sid: string }) => s.Sid === "SendFailedRuns");
    expect(send).to.deep.include({
      Action: ["sqs:SendMessage"],
      Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-failed-runs`,
    });
  });

  it("gives the schedule's target a retry policy and a dead-letter queue only that rule may write to", () => {
    const dlq = findResource("aws:sqs/queue:Queue", `tagger-${REGION}-schedule-dlq`).inputs;
    expect(dlq).to.deep.include({ messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true });
    const dlqArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:TagEC2Backups-schedule-dlq`;
    expect(findResource("aws:cloudwatch/eventTarget:EventTarget").inputs).to.deep.include({
      retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
      deadLetterConfig: { arn: dlqArn },
    });
    const queuePolicy = findResource("aws:sqs/queuePolicy:QueuePolicy").inputs;
    expect(queuePolicy.queueUrl).to.equal(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/TagEC2Backups-schedule-dlq`,
    );
    expect(JSON.parse(queuePolicy.policy).Statement).to.deep.equal([
      {
        Sid: "ScheduleDeadLetters",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: dlqArn,
        Condition: {
          ArnEquals: {
            "aws:SourceArn": `arn:aws:events:${REGION}:${ACCOUNT}:rule/TagEC2Backups-DailyEC2BackupTagger`,
          },
        },
      },
    ]);
  });

  it("logs JSON at the configured level to the stack's log group", () => {
    expect(findResource("aws:lambda/function:Function").inputs.loggingConfig).to.deep.equal({
      logFormat: "JSON",
      applicationLogLevel: "INFO",
      systemLogLevel: "INFO",
      logGroup: "/aws/lambda/TagEC2Backups",
    });
  });

  it("deploys a dashboard whose widgets chart the function's and the tagger's metrics", () => {
    const dashboard = findResource("aws:cloudwatch/dashboard:Dashboard").inputs;
    // Dashboards are account-wide: the name carries the region, so stacks per region never collide.
    expect(dashboard.dashboardName).to.equal(`TagEC2Backups-${REGION}`);
    const body = JSON.parse(dashboard.dashboardBody);
    const metricNames = body.widgets.flatMap((w: { properties: { metrics: string[][] } }) =>
      w.properties.metrics.map((m) => m[1]),
    );
    expect(new Set(metricNames)).to.deep.equal(
      new Set([
        "Invocations",
        "Errors",
        "Duration",
        "AmisTagged",
        "SnapshotsTagged",
        "ResourcesListed",
        "ResourcesSkipped",
        "TagFailures",
        "RunComplete",
        "SweepComplete",
        "DeletionBacklog",
        "FilterCheckFailures",
        "AmisDeregistered",
        "SnapshotsDeleted",
        "DeletionFailures",
        "DeletionsSkipped",
        "BackupsDueSoon",
        "UnprovenBackups",
      ]),
    );
  });
});

describe("operations switched off", () => {
  it("alarms=false and dashboard=false remove the alarms, topic and dashboard, and keep failure handling", async () => {
    await loadStack({
      "aws:region": REGION,
      alarms: "false",
      dashboard: "false",
      alarmEmail: "ops@example.com",
    });
    const types = registered.map((r) => r.type);
    for (const gone of [
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "aws:sns/topic:Topic",
      "aws:sns/topicSubscription:TopicSubscription",
      "aws:cloudwatch/dashboard:Dashboard",
    ]) {
      expect(types, gone).not.to.include(gone);
    }
    expect(types).to.include("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig");
    expect(types).to.include("aws:sqs/queuePolicy:QueuePolicy");
  });

  it("refuses bad operations values with clear errors", async () => {
    let error: Error | undefined;
    await loadStack({
      "aws:region": REGION,
      alarmEmail: "nobody",
      alarmTopicArn: "arn:aws:sqs:x",
      alarmDurationSeconds: "-1",
    }).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^Invalid stack configuration \(3 problems\):/);
    expect(error?.message).to.include('alarmEmail = "nobody": must be an email address');
    expect(error?.message).to.include('alarmTopicArn = "arn:aws:sqs:x": must be an SNS topic ARN');
    expect(error?.message).to.include('alarmDurationSeconds = "-1": must be an integer from 1 to 299');
    expect(registered).to.have.length(0);
  });
});

describe("stack config reaches the resources", () => {
  it("applies every key", async () => {
    await loadStack({
      "aws:region": "ap-southeast-2",
      ...EVERY_KEY_SET,
    });
    const fn = findResource("aws:lambda/function:Function");
    expect(fn.inputs).to.deep.include({ name: "TagBackupsProd", memorySize: 256, timeout: 600 });
    expect(fn.inputs.environment.variables).to.deep.equal({
      RETENTION_DAYS: "30",
      EXTRA_TAGS: '{"Owner":"infra"}',
      DRY_RUN: "true",
      METRICS_NAMESPACE: "Backups/Tagger",
      INCLUDE_TAGS: '{"Backup":"*"}',
      EXCLUDE_TAGS: '{"Env":"dev"}',
      MANAGE_AMIS: "true",
      MANAGE_SNAPSHOTS: "true",
      DELETE_ON_FROM: "creation",
      EXPIRE: "true",
      EXPIRE_GRACE_DAYS: "3",
      MAX_DELETIONS_PER_RUN: "10",
      SWEEP_HOURS: "48",
      EXPIRE_NOTICE_DAYS: "14",
      ADOPT_UNPROVEN_TAGS: "true",
      LEDGER_TABLE: "TagBackupsProd-ledger",
      NOTICE_TOPIC_ARN: "arn:aws:sns:ap-southeast-2:123456789012:ops-alerts",
    });
    // expire on: deletion rights, scoped by ARN and by our Retention tag on the resource.
    const expiring = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy).Statement.find(
      (st: { Sid: string }) => st.Sid === "ExpireOwnBackups",
    );
    expect(expiring).to.deep.equal({
      Sid: "ExpireOwnBackups",
      Effect: "Allow",
      Action: ["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
      Resource: ["arn:aws:ec2:ap-southeast-2::image/*", "arn:aws:ec2:ap-southeast-2::snapshot/*"],
      Condition: {
        StringEquals: { "aws:ResourceTag/Retention": "30days" },
        Null: { "aws:ResourceTag/DeleteOn": "false", "aws:ResourceTag/RetentionBatch": "false" },
      },
    });
    // The deletion notice goes to the alarm topic.
    const notice = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy).Statement.find(
      (st: { Sid: string }) => st.Sid === "SendDeletionNotice",
    );
    expect(notice).to.deep.include({
      Action: ["sns:Publish"],
      Resource: "arn:aws:sns:ap-southeast-2:123456789012:ops-alerts",
    });
    // Undo: Recycle Bin rules for what expiry deletes, scoped to the current Retention value.
    const rules = registered.filter((r) => r.type === "aws:rbin/rule:Rule");
    expect(rules.map((r) => [r.name, r.inputs.resourceType])).to.deep.equal([
      ["tagger-ap-southeast-2-recycle-bin-snapshots", "EBS_SNAPSHOT"],
      ["tagger-ap-southeast-2-recycle-bin-amis", "EC2_IMAGE"],
    ]);
    for (const rule of rules) {
      expect(rule.inputs).to.deep.include({
        resourceTags: [{ resourceTagKey: "Retention", resourceTagValue: "30days" }],
        retentionPeriod: { retentionPeriodValue: 30, retentionPeriodUnit: "DAYS" },
      });
    }
    expect(fn.inputs).to.deep.include({ reservedConcurrentExecutions: 1 });
    expect(fn.inputs.loggingConfig).to.deep.include({ logFormat: "JSON", applicationLogLevel: "DEBUG" });
    // An existing topic: no topic created, the email subscribed to it, the alarms notify it.
    const topic = "arn:aws:sns:ap-southeast-2:123456789012:ops-alerts";
    expect(registered.filter((r) => r.type === "aws:sns/topic:Topic")).to.have.length(0);
    expect(findResource("aws:sns/topicSubscription:TopicSubscription").inputs).to.deep.include({
      topic,
      protocol: "email",
      endpoint: "ops@example.com",
    });
    const alarms = registered.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.every((a) => a.inputs.alarmActions[0] === topic && a.inputs.okActions[0] === topic)).to.be
      .true;
    expect(
      findResource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "tagger-ap-southeast-2-monitoring-alarm-duration",
      ).inputs.threshold,
    ).to.equal(120_000);
    expect(
      findResource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "tagger-ap-southeast-2-monitoring-alarm-tag-failures",
      ).inputs.namespace,
    ).to.equal("Backups/Tagger");
    expect(registered.filter((r) => r.type === "aws:cloudwatch/dashboard:Dashboard")).to.have.length(0);
    expect(findResource("aws:iam/role:Role").inputs.name).to.equal("TagBackupsProdLambdaRole-ap-southeast-2");
    expect(findResource("aws:cloudwatch/logGroup:LogGroup").inputs).to.deep.include({
      name: "/aws/lambda/TagBackupsProd",
      retentionInDays: 90,
    });
    expect(findResource("aws:cloudwatch/eventRule:EventRule").inputs).to.deep.include({
      name: "TagBackupsProd-DailyEC2BackupTagger",
      scheduleExpression: "cron(0 2 * * ? *)",
    });
    const document = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    const tagging = document.Statement.find((s: { Sid: string }) => s.Sid === "TagBackups");
    expect(tagging.Condition["ForAllValues:StringEquals"]["aws:TagKeys"]).to.deep.equal([
      "DeleteOn",
      "Owner",
      "Retention",
      "RetentionBatch",
    ]);
    expect(tagging.Resource[0]).to.equal("arn:aws:ec2:ap-southeast-2::image/*");
  });

  it("refuses bad config with one error listing every bad key, before registering anything", async () => {
    let error: Error | undefined;
    await loadStack({
      "aws:region": REGION,
      retentionDays: "0",
      schedule: "rate(1 days)",
      extraTags: '{"DeleteOn":"x"}',
    }).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^Invalid stack configuration \(3 problems\):/);
    expect(error?.message).to.include('ec2-backup-retention:retentionDays = "0"');
    expect(error?.message).to.include('ec2-backup-retention:schedule = "rate(1 days)"');
    expect(error?.message).to.include('ec2-backup-retention:extraTags = "{\\"DeleteOn\\":\\"x\\"}"');
    expect(registered).to.have.length(0);
  });

  it("keeps deleted backups in the Recycle Bin for 7 days by default with expire, and none with recycleBinDays 0", async () => {
    await loadStack({ "aws:region": REGION, expire: "true" });
    const rules = registered.filter((r) => r.type === "aws:rbin/rule:Rule");
    expect(rules.map((r) => r.inputs.retentionPeriod.retentionPeriodValue)).to.deep.equal([7, 7]);
    expect(rules.map((r) => r.inputs.resourceTags)).to.deep.equal([
      [{ resourceTagKey: "Retention", resourceTagValue: "90days" }],
      [{ resourceTagKey: "Retention", resourceTagValue: "90days" }],
    ]);
    // The created alarm topic receives the deletion notice.
    expect(
      findResource("aws:lambda/function:Function").inputs.environment.variables.NOTICE_TOPIC_ARN,
    ).to.equal(`arn:aws:sns:${REGION}:${ACCOUNT}:TagEC2Backups-alarms`);
    await loadStack({ "aws:region": REGION, expire: "true", recycleBinDays: "0" });
    expect(registered.filter((r) => r.type === "aws:rbin/rule:Rule")).to.have.length(0);
  });

  it("refuses a stack without a region", async () => {
    let error: Error | undefined;
    await loadStack({}).catch((e: Error) => (error = e));
    expect(error?.message).to.include("aws:region = undefined: must be an AWS region");
  });
});
