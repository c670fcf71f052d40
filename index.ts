// The stack: read config, build one tagger per region, export what operators look for.
import { BackupTagger } from "./infra/backupTagger";
import { loadConfig } from "./infra/config";
import { OrganizationHub } from "./infra/organizationHub";
import { regionProvider } from "./infra/providers";

const config = loadConfig();

/** Organization mode (off by default): one hub for every account; then no per-region taggers. */
const hub = config.organization ? new OrganizationHub("organization", config) : undefined;

/**
 * One naming scheme however many regions: region R's resources are `tagger-R-...` whether the
 * stack has `aws:region: R` alone, `regions: [R]` or `regions: [R, S]`, so adding or removing a
 * region never touches another. The stack's own `aws:region` is served by the default provider,
 * exactly as before, and keeps the names stacks deployed before this scheme used (`tagger-...`) as
 * aliases; Pulumi carries a component's alias to children named after it. Every other region gets
 * an explicit provider with all of the stack's `aws:` settings.
 */
const LEGACY_NAME = "tagger";

const taggers = Object.fromEntries(
  (hub ? [] : config.targetRegions).map((region) => {
    const primary = region === config.awsRegion;
    const tagger = new BackupTagger(
      `tagger-${region}`,
      {
        ...config,
        region,
        // Dashboards are account-wide: the region keeps each stack's (and each region's) apart.
        dashboardName: `${config.namePrefix}-${region}`,
        alarmTopicArn: config.alarmTopicArns[region] ?? config.alarmTopicArn,
      },
      primary ? { aliases: [{ name: LEGACY_NAME }] } : { providers: [regionProvider(region)] },
    );
    return [region, tagger];
  }),
);

const only = config.targetRegions.length === 1 ? taggers[config.targetRegions[0]] : undefined;

export const functionName = only?.functionName;
export const functionArn = only?.functionArn;
export const roleArn = only?.roleArn;
export const logGroupName = only?.logGroupName;
export const ruleName = only?.ruleName;
export const schedule = config.schedule;
export const retentionDays = config.retentionDays;
export const failedRunsQueueUrl = only?.failedRunsQueueUrl;
export const alarmTopicArn = only?.alarmTopicArn;
export const dashboardName = only?.dashboardName;
export const ledgerTableName = only?.ledgerTableName;
/** Every output above, keyed by region. */
export const regions = Object.fromEntries(
  Object.entries(taggers).map(([region, t]) => [
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
/** Organization mode's hub; undefined (so not exported) for a single account. */
export const organization = hub && {
  dispatcherFunctionName: hub.dispatcherFunctionName,
  workerFunctionName: hub.workerFunctionName,
  dispatcherRoleArn: hub.dispatcherRoleArn,
  workerRoleArn: hub.workerRoleArn,
  targetQueueUrl: hub.targetQueueUrl,
  deadLetterQueueUrl: hub.deadLetterQueueUrl,
  ledgerTableName: hub.ledgerTableName,
  stackSetName: hub.stackSetName,
  memberRoleName: hub.memberRoleName,
  ruleName: hub.ruleName,
  alarmTopicArn: hub.alarmTopicArn,
  lastResultsQueryName: hub.lastResultsQueryName,
};
