// The stack: read config, build the tagger, export what operators look for.
import { BackupTagger } from "./infra/backupTagger";
import { loadConfig } from "./infra/config";

const config = loadConfig();
const tagger = new BackupTagger("tagger", config);

export const functionName = tagger.functionName;
export const functionArn = tagger.functionArn;
export const roleArn = tagger.roleArn;
export const logGroupName = tagger.logGroupName;
export const ruleName = tagger.ruleName;
export const schedule = tagger.schedule;
export const retentionDays = tagger.retentionDays;
export const failedRunsQueueUrl = tagger.failedRunsQueueUrl;
export const alarmTopicArn = tagger.alarmTopicArn;
export const dashboardName = tagger.dashboardName;
