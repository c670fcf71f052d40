// Raw stack config setting every project key away from its default, as `pulumi config set` would.
export const EVERY_KEY_SET: Record<string, string> = {
  retentionDays: "30",
  schedule: "cron(0 2 * * ? *)",
  logRetentionDays: "90",
  memorySize: "256",
  timeoutSeconds: "600",
  extraTags: '{"Owner":"infra"}',
  dryRun: "true",
  namePrefix: "TagBackupsProd",
};
