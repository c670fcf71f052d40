// Undo for expiry: Recycle Bin retention rules that keep what expiry deletes for recycleBinDays.
// Tag-level rules match resources carrying one of their tag key and value pairs (Recycle Bin API,
// CreateRule); every backup expiry may delete carries exactly Retention=<N>days, which the role's
// IAM condition requires, so the rules match the current retention value.
import { RETENTION_KEY, retentionValue } from "../handler/tagRules";

export interface RecycleBinRuleSpec {
  /** Short key: the Pulumi resource name is `${component}-recycle-bin-${key}`. */
  key: "snapshots" | "amis";
  resourceType: "EBS_SNAPSHOT" | "EC2_IMAGE";
  description: string;
  resourceTags: { resourceTagKey: string; resourceTagValue: string }[];
  retentionPeriod: { retentionPeriodValue: number; retentionPeriodUnit: "DAYS" };
}

export function buildRecycleBinRules(args: {
  namePrefix: string;
  retentionDays: number;
  recycleBinDays: number;
}): RecycleBinRuleSpec[] {
  if (args.recycleBinDays === 0) {
    return [];
  }
  const resourceTags = [
    { resourceTagKey: RETENTION_KEY, resourceTagValue: retentionValue(args.retentionDays) },
  ];
  const retentionPeriod = { retentionPeriodValue: args.recycleBinDays, retentionPeriodUnit: "DAYS" as const };
  const kept = `${args.recycleBinDays} days after ${args.namePrefix} expiry deletes them`;
  return [
    {
      key: "snapshots",
      resourceType: "EBS_SNAPSHOT",
      description: `Keeps snapshots tagged ${RETENTION_KEY}=${retentionValue(args.retentionDays)} ${kept}`,
      resourceTags,
      retentionPeriod,
    },
    {
      key: "amis",
      resourceType: "EC2_IMAGE",
      description: `Keeps AMIs tagged ${RETENTION_KEY}=${retentionValue(args.retentionDays)} ${kept}`,
      resourceTags,
      retentionPeriod,
    },
  ];
}
