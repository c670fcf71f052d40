// The BackupTagger component: role, log group, function, schedule, and the permission that lets
// the schedule invoke the function. Physical names follow the seed so operators find what it documents.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHandler } from "../handler/lambdaHandler";
import { ENV } from "../handler/settings";
import { DELETE_ON_KEY, RETENTION_KEY } from "../handler/tagRules";
import { NAME_SUFFIXES, type StackConfig } from "./config";
import { BATCH_KEY, retentionValue } from "../handler/tagRules";
import { LAMBDA_TRUST_POLICY, buildLedgerPolicy, buildTaggerPolicy } from "./iamPolicy";
import { TaggerMonitoring } from "./monitoring";
import { buildRecycleBinRules } from "./recycleBin";
import { buildSdkLayer } from "./sdkLayer";

/** Failed invocations and undeliverable schedule events are kept this long (the SQS maximum). */
const FOURTEEN_DAYS = 1_209_600;

/**
 * Packages in package.json's dependencies that must not be in the function's archive: deploy-time
 * tools, and the AWS SDK, which the function gets from its own layer (sdkLayer.ts), pinned to the
 * locked versions. A test fails if the archive holds anything but the serialized handler.
 */
export const NOT_UPLOADED = [
  "@aws-sdk/client-ec2",
  "@aws-sdk/client-dynamodb",
  "@aws-sdk/client-sns",
  "@aws-sdk/client-organizations",
  "@aws-sdk/client-sqs",
  "@aws-sdk/client-sts",
  "cron-validate",
];

export type BackupTaggerArgs = StackConfig & {
  /** Dashboards are account-wide: several regions in one stack need one name each. Default namePrefix. */
  dashboardName?: string;
};

export class BackupTagger extends pulumi.ComponentResource {
  public readonly functionName: pulumi.Output<string>;
  public readonly functionArn: pulumi.Output<string>;
  public readonly roleArn: pulumi.Output<string>;
  public readonly logGroupName: pulumi.Output<string>;
  public readonly ruleName: pulumi.Output<string>;
  public readonly schedule: string;
  public readonly retentionDays: number;
  public readonly failedRunsQueueUrl: pulumi.Output<string>;
  public readonly alarmTopicArn: pulumi.Output<string> | undefined;
  public readonly dashboardName: pulumi.Output<string> | undefined;
  public readonly ledgerTableName: pulumi.Output<string>;
  public readonly sdkLayerArn: pulumi.Output<string>;

  constructor(name: string, args: BackupTaggerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ec2-backup-retention:index:BackupTagger", name, {}, opts);
    const functionName = args.namePrefix;
    const metricsNamespace = args.metricsNamespace || args.namePrefix;

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: `${args.namePrefix}${NAME_SUFFIXES.role}${args.region}`,
        description: "Lets the EC2 backup tagger list AMIs and snapshots and write its retention tags.",
        assumeRolePolicy: JSON.stringify(LAMBDA_TRUST_POLICY),
      },
      { parent: this },
    );

    // Created by the stack, before the function, so Lambda never creates a group that keeps logs forever.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays },
      { parent: this },
    );

    // Kept 14 days (the SQS maximum), encrypted with SQS-managed keys.
    const queue = (suffix: string) =>
      new aws.sqs.Queue(
        `${name}-${suffix}`,
        {
          name: `${args.namePrefix}-${suffix}`,
          messageRetentionSeconds: FOURTEEN_DAYS,
          sqsManagedSseEnabled: true,
        },
        { parent: this },
      );

    // Where Lambda puts asynchronous invocations that failed after its retries.
    const failedRuns = queue("failed-runs");

    // The proof of authorship: entries only the function's role can write (docs/expiry.md).
    const ledger = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        name: `${args.namePrefix}-ledger`,
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        ttl: { attributeName: "expiresAt", enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
      },
      { parent: this },
    );
    new aws.dynamodb.ResourcePolicy(
      `${name}-ledger-policy`,
      {
        resourceArn: ledger.arn,
        policy: pulumi
          .all([ledger.arn, role.arn])
          .apply(([tableArn, writerRoleArn]) =>
            JSON.stringify(buildLedgerPolicy({ tableArn, writerRoleArn })),
          ),
      },
      { parent: this },
    );

    // Created before the function: the deletion notice goes to the alarm topic.
    const monitoring = new TaggerMonitoring(
      `${name}-monitoring`,
      { ...args, functionName, metricsNamespace },
      { parent: this },
    );
    const noticeTopicArn =
      args.expire && monitoring.alarmTopicArn ? monitoring.alarmTopicArn : pulumi.output("");

    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        name: `${args.namePrefix}Policy`,
        role: role.id,
        policy: pulumi
          .all([partition, logGroup.arn, failedRuns.arn, ledger.arn, noticeTopicArn])
          .apply(([partitionName, logGroupArn, queueArn, ledgerTableArn, topicArn]) =>
            JSON.stringify(
              buildTaggerPolicy({
                partition: partitionName,
                region: args.region,
                logGroupArn,
                tagKeys: [RETENTION_KEY, DELETE_ON_KEY, BATCH_KEY, ...Object.keys(args.extraTags)],
                failureQueueArn: queueArn,
                ledgerTableArn,
                expire: args.expire,
                retentionValue: retentionValue(args.retentionDays),
                noticeTopicArn: topicArn || undefined,
              }),
            ),
          ),
      },
      { parent: this },
    );

    if (args.expire) {
      for (const { key, ...rule } of buildRecycleBinRules(args)) {
        new aws.rbin.Rule(`${name}-recycle-bin-${key}`, rule, { parent: this });
      }
    }

    // The SDK the tests ran, not whatever the runtime ships this month. Built once per content
    // hash; the same files make the same archive, so an unchanged stack replaces nothing.
    const built = buildSdkLayer();
    const sdkLayer = new aws.lambda.LayerVersion(
      `${name}-sdk-layer`,
      {
        layerName: `${args.namePrefix}-aws-sdk`,
        description: `The AWS SDK parts ${functionName} uses, bundled from package-lock.json (content ${built.hash})`,
        code: new pulumi.asset.FileArchive(built.dir),
        compatibleRuntimes: [aws.lambda.Runtime.NodeJS22dX],
        // Plain JavaScript: either architecture.
        compatibleArchitectures: ["x86_64", "arm64"],
      },
      { parent: this },
    );

    const fn = new aws.lambda.CallbackFunction(
      `${name}-function`,
      {
        name: functionName,
        description: "Tags every AMI and EBS snapshot the account owns with Retention and DeleteOn.",
        callbackFactory: createHandler,
        role,
        layers: [sdkLayer.arn],
        runtime: aws.lambda.Runtime.NodeJS22dX,
        memorySize: args.memorySize,
        timeout: args.timeoutSeconds,
        loggingConfig: {
          logFormat: "JSON",
          applicationLogLevel: args.logLevel,
          systemLogLevel: "INFO",
          logGroup: logGroup.name,
        },
        ...(args.reservedConcurrency ? { reservedConcurrentExecutions: 1 } : {}),
        environment: {
          variables: {
            [ENV.retentionDays]: String(args.retentionDays),
            [ENV.extraTags]: JSON.stringify(args.extraTags),
            [ENV.dryRun]: String(args.dryRun),
            [ENV.metricsNamespace]: metricsNamespace,
            [ENV.includeTags]: JSON.stringify(args.includeTags),
            [ENV.excludeTags]: JSON.stringify(args.excludeTags),
            [ENV.manageAmis]: String(args.manageAmis),
            [ENV.manageSnapshots]: String(args.manageSnapshots),
            [ENV.deleteOnFrom]: args.deleteOnFrom,
            [ENV.expire]: String(args.expire),
            [ENV.expireGraceDays]: String(args.expireGraceDays),
            [ENV.maxDeletionsPerRun]: String(args.maxDeletionsPerRun),
            [ENV.expireNoticeDays]: String(args.expireNoticeDays),
            [ENV.adoptUnprovenTags]: String(args.adoptUnprovenTags),
            [ENV.sweepHours]: String(args.sweepHours),
            [ENV.ledgerTable]: ledger.name,
            [ENV.noticeTopicArn]: noticeTopicArn,
          },
        },
        codePathOptions: { extraExcludePackages: [...NOT_UPLOADED] },
      },
      { parent: this, dependsOn: [logGroup, policy] },
    );

    const rule = new aws.cloudwatch.EventRule(
      `${name}-schedule`,
      {
        name: `${args.namePrefix}${NAME_SUFFIXES.rule}`,
        description: `Runs ${functionName} to tag EC2 backups`,
        scheduleExpression: args.schedule,
      },
      { parent: this },
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: fn.name,
        // A failed run is safe to repeat (the tagger is idempotent), but not forever.
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destination: failedRuns.arn } },
      },
      { parent: this, dependsOn: [policy] },
    );

    // Schedule events EventBridge could not deliver (say, the function was deleted by hand).
    const undelivered = queue("schedule-dlq");
    new aws.sqs.QueuePolicy(
      `${name}-schedule-dlq-policy`,
      {
        queueUrl: undelivered.id,
        policy: pulumi.all([undelivered.arn, rule.arn]).apply(([queueArn, ruleArn]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "ScheduleDeadLetters",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "sqs:SendMessage",
                Resource: queueArn,
                Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-target`,
      {
        rule: rule.name,
        arn: fn.arn,
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: undelivered.arn },
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: fn.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.arn,
      },
      { parent: this },
    );

    this.functionName = fn.name;
    this.functionArn = fn.arn;
    this.roleArn = role.arn;
    this.logGroupName = logGroup.name;
    this.ruleName = rule.name;
    this.schedule = args.schedule;
    this.retentionDays = args.retentionDays;
    this.failedRunsQueueUrl = failedRuns.url;
    this.alarmTopicArn = monitoring.alarmTopicArn;
    this.dashboardName = monitoring.dashboardName;
    this.ledgerTableName = ledger.name;
    this.sdkLayerArn = sdkLayer.arn;
    this.registerOutputs({
      ledgerTableName: this.ledgerTableName,
      failedRunsQueueUrl: this.failedRunsQueueUrl,
      alarmTopicArn: this.alarmTopicArn,
      dashboardName: this.dashboardName,
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
      logGroupName: this.logGroupName,
      ruleName: this.ruleName,
      schedule: this.schedule,
      retentionDays: this.retentionDays,
    });
  }
}
