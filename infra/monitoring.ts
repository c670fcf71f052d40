// TaggerMonitoring: the alarms, the topic they notify, an optional email subscription, and the
// dashboard. Definitions come from the pure builders in alarms.ts and dashboard.ts.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildAlarms } from "./alarms";
import { buildDashboard } from "./dashboard";
import type { OperationsConfig } from "./operationsConfig";

export type TaggerMonitoringArgs = Pick<
  OperationsConfig,
  "alarms" | "alarmTopicArn" | "alarmEmail" | "alarmDurationSeconds" | "alarmMissingRunHours" | "dashboard"
> & {
  namePrefix: string;
  region: string;
  functionName: string;
  /** Resolved: never empty here. */
  metricsNamespace: string;
  /** Default namePrefix. */
  dashboardName?: string;
};

export class TaggerMonitoring extends pulumi.ComponentResource {
  /** Where the alarms notify; undefined when alarms are off. */
  public readonly alarmTopicArn: pulumi.Output<string> | undefined;
  public readonly dashboardName: pulumi.Output<string> | undefined;

  constructor(name: string, args: TaggerMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ec2-backup-retention:index:TaggerMonitoring", name, {}, opts);

    if (args.alarms) {
      // Unencrypted on purpose: alarm messages carry alarm names and metric values, no backup data,
      // and an encrypted topic needs a customer managed KMS key whose policy lets CloudWatch publish
      // (the AWS managed SNS key does not). Bring such a topic with alarmTopicArn if you need one.
      const topicArn =
        args.alarmTopicArn !== ""
          ? pulumi.output(args.alarmTopicArn)
          : new aws.sns.Topic(`${name}-alarm-topic`, { name: `${args.namePrefix}-alarms` }, { parent: this })
              .arn;
      if (args.alarmEmail !== "") {
        new aws.sns.TopicSubscription(
          `${name}-alarm-email`,
          { topic: topicArn, protocol: "email", endpoint: args.alarmEmail },
          { parent: this },
        );
      }
      for (const spec of buildAlarms({
        namePrefix: args.namePrefix,
        functionName: args.functionName,
        metricsNamespace: args.metricsNamespace,
        durationSeconds: args.alarmDurationSeconds,
        missingRunHours: args.alarmMissingRunHours,
      })) {
        const { key, name: alarmName, description, ...definition } = spec;
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
      this.alarmTopicArn = topicArn;
    }

    if (args.dashboard) {
      const dashboard = new aws.cloudwatch.Dashboard(
        `${name}-dashboard`,
        {
          dashboardName: args.dashboardName ?? args.namePrefix,
          dashboardBody: JSON.stringify(buildDashboard(args)),
        },
        { parent: this },
      );
      this.dashboardName = dashboard.dashboardName;
    }

    this.registerOutputs({ alarmTopicArn: this.alarmTopicArn, dashboardName: this.dashboardName });
  }
}
