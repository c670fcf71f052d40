// OrganizationHub: organization mode's whole stack, in one account (the management account or a
// delegated administrator). The schedule runs the dispatcher, which lists the target accounts and
// queues one message per (account, region); the worker, fed by the queue, assumes each member's
// role and runs the tagger core there, with the proof kept in the hub's ledger. The member
// accounts hold nothing but that role (MemberRoles).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createDispatcher } from "../handler/dispatcher";
import { TARGET_RESULT } from "../handler/organizationMetrics";
import { ORG_ENV } from "../handler/organizationSettings";
import { ENV } from "../handler/settings";
import { BATCH_KEY, DELETE_ON_KEY, RETENTION_KEY, retentionValue } from "../handler/tagRules";
import { createWorker } from "../handler/worker";
import { NOT_UPLOADED } from "./backupTagger";
import type { StackConfig } from "./config";
import { LAMBDA_TRUST_POLICY, buildLedgerPolicy } from "./iamPolicy";
import { MemberRoles } from "./memberRoles";
import { buildOrganizationAlarms, lastResultsQuery } from "./organizationAlarms";
import { ORGANIZATION_NAME_SUFFIXES } from "./organizationConfig";
import { buildDispatcherPolicy, buildWorkerPolicy } from "./organizationPolicies";
import { ORGANIZATION_SDK_SURFACE, buildSdkLayer } from "./sdkLayer";

const FOURTEEN_DAYS = 1_209_600;
/** A target not worked within 4 days (the SQS default) is stale: later sweeps queue it again. */
const FOUR_DAYS = 345_600;
/**
 * Deliveries before a target's message goes to the dead-letter queue. The Lambda guide's advice
 * of at least 5 guards against throttled deliveries; maximumConcurrency keeps the event source
 * from invoking beyond what it may, so 3 real attempts suffice (Lambda Developer Guide, SQS scaling).
 */
export const MAX_RECEIVES = 3;
/** The queue hides a message 6 times the function's timeout, as the Lambda guide recommends for SQS. */
const VISIBILITY_FACTOR = 6;
/** SQS's longest visibility timeout, 12 hours. */
const MAX_VISIBILITY_SECONDS = 43_200;

export type OrganizationHubArgs = StackConfig;

export class OrganizationHub extends pulumi.ComponentResource {
  public readonly dispatcherFunctionName: pulumi.Output<string>;
  public readonly workerFunctionName: pulumi.Output<string>;
  public readonly dispatcherRoleArn: pulumi.Output<string>;
  public readonly workerRoleArn: pulumi.Output<string>;
  public readonly targetQueueUrl: pulumi.Output<string>;
  public readonly deadLetterQueueUrl: pulumi.Output<string>;
  public readonly ledgerTableName: pulumi.Output<string>;
  public readonly stackSetName: pulumi.Output<string>;
  public readonly memberRoleName: string;
  public readonly ruleName: pulumi.Output<string>;
  public readonly alarmTopicArn: pulumi.Output<string> | undefined;
  public readonly lastResultsQueryName: pulumi.Output<string>;
  public readonly sdkLayerArn: pulumi.Output<string>;

  constructor(name: string, args: OrganizationHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ec2-backup-retention:index:OrganizationHub", name, {}, opts);
    const prefix = args.namePrefix;
    const metricsNamespace = args.metricsNamespace || prefix;
    const dispatcherName = `${prefix}-org-dispatcher`;
    const workerName = `${prefix}-org-worker`;
    const partition = aws.getPartitionOutput({}, { parent: this }).partition;
    // The organization the stack runs in: the member roles trust only principals of it.
    const organizationId = aws.organizations.getOrganizationOutput({}, { parent: this }).id;

    const queue = (suffix: string, extra: Partial<aws.sqs.QueueArgs> = {}) =>
      new aws.sqs.Queue(
        `${name}-${suffix}`,
        { name: `${prefix}-org-${suffix}`, sqsManagedSseEnabled: true, ...extra },
        { parent: this },
      );
    const deadLetters = queue("targets-dlq", { messageRetentionSeconds: FOURTEEN_DAYS });
    const targets = queue("targets", {
      messageRetentionSeconds: FOUR_DAYS,
      visibilityTimeoutSeconds: Math.min(MAX_VISIBILITY_SECONDS, VISIBILITY_FACTOR * args.timeoutSeconds),
      redrivePolicy: deadLetters.arn.apply((deadLetterTargetArn) =>
        JSON.stringify({ deadLetterTargetArn, maxReceiveCount: MAX_RECEIVES }),
      ),
    });

    const role = (suffix: string, description: string) =>
      new aws.iam.Role(
        `${name}-${suffix}-role`,
        {
          name: `${prefix}${suffix === "dispatcher" ? ORGANIZATION_NAME_SUFFIXES.dispatcherRole : ORGANIZATION_NAME_SUFFIXES.workerRole}${args.region}`,
          description,
          assumeRolePolicy: JSON.stringify(LAMBDA_TRUST_POLICY),
        },
        { parent: this },
      );
    const logGroup = (suffix: string, functionName: string) =>
      new aws.cloudwatch.LogGroup(
        `${name}-${suffix}-logs`,
        { name: `/aws/lambda/${functionName}`, retentionInDays: args.logRetentionDays },
        { parent: this },
      );
    const dispatcherRole = role(
      "dispatcher",
      "Lets the EC2 backup tagger's dispatcher list the organization's accounts and queue them.",
    );
    const workerRole = role(
      "worker",
      "Lets the EC2 backup tagger's worker assume the member role in the organization's accounts.",
    );
    const dispatcherLogs = logGroup("dispatcher", dispatcherName);
    const workerLogs = logGroup("worker", workerName);

    // The proof of authorship, for every member: entries only the worker's role can write, each
    // bound to its "<account>/<region>" (handler/worker.ts targetScope).
    const ledger = new aws.dynamodb.Table(
      `${name}-ledger`,
      {
        name: `${prefix}-org-ledger`,
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
          .all([ledger.arn, workerRole.arn])
          .apply(([tableArn, writerRoleArn]) =>
            JSON.stringify(buildLedgerPolicy({ tableArn, writerRoleArn })),
          ),
      },
      { parent: this },
    );

    // The alarms' topic, which also takes the deletion notices with expire, as in a single account.
    let topicArn: pulumi.Output<string> | undefined;
    // The hub's alarms live in its region: a topic given for it in alarmTopicArns serves too.
    const existingTopic = args.alarmTopicArns[args.region] ?? args.alarmTopicArn;
    if (args.alarms) {
      topicArn =
        existingTopic !== ""
          ? pulumi.output(existingTopic)
          : new aws.sns.Topic(`${name}-alarm-topic`, { name: `${prefix}-org-alarms` }, { parent: this }).arn;
      if (args.alarmEmail !== "") {
        new aws.sns.TopicSubscription(
          `${name}-alarm-email`,
          { topic: topicArn, protocol: "email", endpoint: args.alarmEmail },
          { parent: this },
        );
      }
    }
    const noticeTopicArn = args.expire && topicArn ? topicArn : pulumi.output("");

    const dispatcherPolicy = new aws.iam.RolePolicy(
      `${name}-dispatcher-policy`,
      {
        name: `${prefix}OrgDispatcherPolicy`,
        role: dispatcherRole.id,
        policy: pulumi
          .all([dispatcherLogs.arn, targets.arn])
          .apply(([logGroupArn, targetQueueArn]) =>
            JSON.stringify(buildDispatcherPolicy({ logGroupArn, targetQueueArn })),
          ),
      },
      { parent: this },
    );
    const workerPolicy = new aws.iam.RolePolicy(
      `${name}-worker-policy`,
      {
        name: `${prefix}OrgWorkerPolicy`,
        role: workerRole.id,
        policy: pulumi
          .all([partition, workerLogs.arn, targets.arn, ledger.arn, organizationId, noticeTopicArn])
          .apply(([partitionName, logGroupArn, targetQueueArn, ledgerTableArn, orgId, topic]) =>
            JSON.stringify(
              buildWorkerPolicy({
                partition: partitionName,
                logGroupArn,
                targetQueueArn,
                ledgerTableArn,
                memberRoleName: args.memberRoleName,
                organizationId: orgId,
                noticeTopicArn: topic || undefined,
              }),
            ),
          ),
      },
      { parent: this },
    );

    const loggingConfig = (logGroupName: pulumi.Input<string>) => ({
      logFormat: "JSON",
      applicationLogLevel: args.logLevel,
      systemLogLevel: "INFO",
      logGroup: logGroupName,
    });
    const regions = JSON.stringify(args.targetRegions);

    // The SDK both functions run, pinned and bundled as in a single account (sdkLayer.ts explains
    // why organization mode has a layer of its own). Nothing of the SDK is in either archive.
    const built = buildSdkLayer(undefined, ORGANIZATION_SDK_SURFACE);
    const sdkLayer = new aws.lambda.LayerVersion(
      `${name}-sdk-layer`,
      {
        layerName: `${prefix}-org-aws-sdk`,
        description: `The AWS SDK parts ${dispatcherName} and ${workerName} use, bundled from package-lock.json (content ${built.hash})`,
        code: new pulumi.asset.FileArchive(built.dir),
        compatibleRuntimes: [aws.lambda.Runtime.NodeJS22dX],
        // Plain JavaScript: either architecture.
        compatibleArchitectures: ["x86_64", "arm64"],
      },
      { parent: this },
    );

    const dispatcher = new aws.lambda.CallbackFunction(
      `${name}-dispatcher`,
      {
        name: dispatcherName,
        description:
          "Lists the organization's target accounts and queues one message per account and region.",
        callbackFactory: createDispatcher,
        role: dispatcherRole,
        layers: [sdkLayer.arn],
        runtime: aws.lambda.Runtime.NodeJS22dX,
        memorySize: args.memorySize,
        timeout: args.timeoutSeconds,
        loggingConfig: loggingConfig(dispatcherLogs.name),
        environment: {
          variables: {
            [ORG_ENV.units]: JSON.stringify(args.organizationUnits),
            [ORG_ENV.includeAccounts]: JSON.stringify(args.includeAccounts),
            [ORG_ENV.excludeAccounts]: JSON.stringify(args.excludeAccounts),
            [ORG_ENV.excludeUnits]: JSON.stringify(args.excludeUnits),
            [ORG_ENV.regions]: regions,
            [ORG_ENV.queueUrl]: targets.url,
            [ENV.metricsNamespace]: metricsNamespace,
          },
        },
        codePathOptions: { extraExcludePackages: [...NOT_UPLOADED] },
      },
      { parent: this, dependsOn: [dispatcherLogs, dispatcherPolicy] },
    );

    const worker = new aws.lambda.CallbackFunction(
      `${name}-worker`,
      {
        name: workerName,
        description: "Tags one member account's AMIs and EBS snapshots in one region per message.",
        callbackFactory: createWorker,
        role: workerRole,
        layers: [sdkLayer.arn],
        runtime: aws.lambda.Runtime.NodeJS22dX,
        memorySize: args.memorySize,
        timeout: args.timeoutSeconds,
        loggingConfig: loggingConfig(workerLogs.name),
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
            [ORG_ENV.regions]: regions,
            [ORG_ENV.memberRoleName]: args.memberRoleName,
            [ORG_ENV.partition]: partition,
          },
        },
        codePathOptions: { extraExcludePackages: [...NOT_UPLOADED] },
      },
      { parent: this, dependsOn: [workerLogs, workerPolicy] },
    );

    new aws.lambda.EventSourceMapping(
      `${name}-worker-events`,
      {
        eventSourceArn: targets.arn,
        functionName: worker.arn,
        // One target per invocation: each gets the whole timeout, and a failure redelivers only it.
        batchSize: 1,
        // Only the failed targets of a batch come back (Lambda Developer Guide, SQS partial batch responses).
        functionResponseTypes: ["ReportBatchItemFailures"],
        // At most this many workers at once, without reserving concurrency; 2 is the least allowed.
        scalingConfig: { maximumConcurrency: args.workerConcurrency },
      },
      { parent: this, dependsOn: [workerPolicy] },
    );

    const rule = new aws.cloudwatch.EventRule(
      `${name}-schedule`,
      {
        name: `${prefix}-OrgSweep`,
        description: `Runs ${dispatcherName} to sweep the organization's EC2 backups`,
        scheduleExpression: args.schedule,
      },
      { parent: this },
    );
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-dispatcher-async`,
      {
        functionName: dispatcher.name,
        // A failed dispatch is safe to repeat (a target queued twice is tagged once), but not forever.
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 3600,
      },
      { parent: this },
    );
    const undelivered = queue("schedule-dlq", { messageRetentionSeconds: FOURTEEN_DAYS });
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
        arn: dispatcher.arn,
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: undelivered.arn },
      },
      { parent: this },
    );
    new aws.lambda.Permission(
      `${name}-invoke`,
      {
        action: "lambda:InvokeFunction",
        function: dispatcher.name,
        principal: "events.amazonaws.com",
        sourceArn: rule.arn,
      },
      { parent: this },
    );

    if (topicArn) {
      for (const { key, name: alarmName, description, ...definition } of buildOrganizationAlarms({
        namePrefix: prefix,
        dispatcherFunctionName: dispatcherName,
        workerFunctionName: workerName,
        metricsNamespace,
        targetQueueName: `${prefix}-org-targets`,
        deadLetterQueueName: `${prefix}-org-targets-dlq`,
        missingRunHours: args.alarmMissingRunHours,
      })) {
        new aws.cloudwatch.MetricAlarm(
          `${name}-alarm-${key}`,
          {
            name: alarmName,
            alarmDescription: description,
            ...definition,
            alarmActions: [topicArn],
            okActions: [topicArn],
          },
          { parent: this },
        );
      }
    }
    const query = new aws.cloudwatch.QueryDefinition(
      `${name}-last-results`,
      {
        // A "/" files the query in a folder of that name in the console.
        name: `${prefix}/organization-last-results`,
        logGroupNames: [workerLogs.name],
        queryString: lastResultsQuery(TARGET_RESULT),
      },
      { parent: this },
    );

    const members = new MemberRoles(
      `${name}-members`,
      {
        namePrefix: prefix,
        region: args.region,
        organizationUnits: args.organizationUnits,
        callAs: args.callAs,
        template: {
          roleName: args.memberRoleName,
          regions: args.targetRegions,
          tagKeys: [RETENTION_KEY, DELETE_ON_KEY, BATCH_KEY, ...Object.keys(args.extraTags)],
          expire: args.expire,
          retentionValue: retentionValue(args.retentionDays),
        },
        workerRoleArn: workerRole.arn,
        workerRoleId: workerRole.uniqueId,
        organizationId,
      },
      { parent: this },
    );

    this.dispatcherFunctionName = dispatcher.name;
    this.workerFunctionName = worker.name;
    this.dispatcherRoleArn = dispatcherRole.arn;
    this.workerRoleArn = workerRole.arn;
    this.targetQueueUrl = targets.url;
    this.deadLetterQueueUrl = deadLetters.url;
    this.ledgerTableName = ledger.name;
    this.stackSetName = members.stackSetName;
    this.memberRoleName = args.memberRoleName;
    this.ruleName = rule.name;
    this.alarmTopicArn = topicArn;
    this.lastResultsQueryName = query.name;
    this.sdkLayerArn = sdkLayer.arn;
    this.registerOutputs({
      dispatcherFunctionName: this.dispatcherFunctionName,
      workerFunctionName: this.workerFunctionName,
      dispatcherRoleArn: this.dispatcherRoleArn,
      workerRoleArn: this.workerRoleArn,
      targetQueueUrl: this.targetQueueUrl,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      ledgerTableName: this.ledgerTableName,
      stackSetName: this.stackSetName,
      memberRoleName: this.memberRoleName,
      ruleName: this.ruleName,
      alarmTopicArn: this.alarmTopicArn,
      lastResultsQueryName: this.lastResultsQueryName,
      sdkLayerArn: this.sdkLayerArn,
    });
  }
}
