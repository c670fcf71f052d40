// The stack: read config, build one tagger (or one per region), export what operators look for.
import * as aws from "@pulumi/aws";
import { BackupTagger } from "./infra/backupTagger";
import { loadConfig } from "./infra/config";

const config = loadConfig();

// One region: the default provider and the resource names every existing stack already has.
const single = config.regions.length === 0 ? new BackupTagger("tagger", config) : undefined;

// Several regions: an explicit provider and a full set of resources per region.
const perRegion = Object.fromEntries(
  config.regions.map((region) => {
    const provider = new aws.Provider(`aws-${region}`, { region: region as aws.Region });
    const tagger = new BackupTagger(
      `tagger-${region}`,
      { ...config, region, dashboardName: `${config.namePrefix}-${region}` },
      { providers: [provider] },
    );
    return [region, tagger];
  }),
);

export const functionName = single?.functionName;
export const functionArn = single?.functionArn;
export const roleArn = single?.roleArn;
export const logGroupName = single?.logGroupName;
export const ruleName = single?.ruleName;
export const schedule = config.schedule;
export const retentionDays = config.retentionDays;
export const failedRunsQueueUrl = single?.failedRunsQueueUrl;
export const alarmTopicArn = single?.alarmTopicArn;
export const dashboardName = single?.dashboardName;
export const ledgerTableName = single?.ledgerTableName;
/** With `regions`: every output above, keyed by region. */
export const regions =
  config.regions.length === 0
    ? undefined
    : Object.fromEntries(
        Object.entries(perRegion).map(([region, t]) => [
          region,
          {
            functionName: t.functionName,
            functionArn: t.functionArn,
            roleArn: t.roleArn,
            logGroupName: t.logGroupName,
            ruleName: t.ruleName,
            failedRunsQueueUrl: t.failedRunsQueueUrl,
            alarmTopicArn: t.alarmTopicArn,
            dashboardName: t.dashboardName,
            ledgerTableName: t.ledgerTableName,
          },
        ]),
      );
