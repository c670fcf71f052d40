// The StackSet's CloudFormation template as plain data: the one role every member account gets.
// Its permissions are the single-account function role's EC2 statements (iamPolicy.ts), built by
// the same function for every covered region and merged, so the two can never drift apart; its
// ARNs name the partition through ${AWS::Partition}, which each member's stack resolves.
import { buildTaggerPolicy, type PolicyStatement } from "./iamPolicy";

/** The statements of the function role a member role carries: EC2 only, no logs, queues or ledger. */
export const MEMBER_STATEMENTS = ["ListBackups", "TagBackups", "ExpireOwnBackups"];

/** The role's logical ID in the template. */
export const MEMBER_ROLE_LOGICAL_ID = "MemberRole";

const PARTITION = "${AWS::Partition}";

export interface MemberRoleTemplateArgs {
  roleName: string;
  /** The hub's worker role: the only principal the member role trusts. */
  workerRoleArn: string;
  /** That role's unique ID (AROA...): it changes when the role is recreated, even under the same name. */
  workerRoleId: string;
  organizationId: string;
  /** Every region the organization's targets cover. */
  regions: string[];
  /** Every tag key the tagger may write: Retention, DeleteOn, RetentionBatch and the extra tags. */
  tagKeys: string[];
  expire: boolean;
  /** With expire: the exact Retention value expiry may delete under, e.g. "90days". */
  retentionValue: string;
}

/** A resource string with ${AWS::Partition} in it, as CloudFormation substitutes it. */
type Subbed = { "Fn::Sub": string };
export type MemberStatement = Omit<PolicyStatement, "Resource"> & { Resource: string | Subbed[] };

/** The member role's statements: one per kind of access, resources of every region merged. */
export function memberStatements(
  args: Omit<MemberRoleTemplateArgs, "roleName" | "workerRoleArn" | "workerRoleId" | "organizationId">,
): MemberStatement[] {
  const byRegion = args.regions.map(
    (region) =>
      buildTaggerPolicy({
        partition: PARTITION,
        region,
        // Statements of the function role the member role does not carry (filtered out below).
        logGroupArn: "",
        failureQueueArn: "",
        ledgerTableArn: "",
        tagKeys: args.tagKeys,
        expire: args.expire,
        retentionValue: args.retentionValue,
      }).Statement,
  );
  return MEMBER_STATEMENTS.flatMap((sid): MemberStatement[] => {
    const found = byRegion.map((statements) => statements.find((s) => s.Sid === sid));
    const [first] = found;
    if (first === undefined) {
      return [];
    }
    if (first.Resource === "*") {
      return [{ ...first, Resource: "*" }];
    }
    const resources = found.flatMap((s) => (s ? [s.Resource].flat() : []));
    return [{ ...first, Resource: resources.map((r) => ({ "Fn::Sub": r })) }];
  });
}

export function buildMemberRoleTemplate(args: MemberRoleTemplateArgs): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description:
      "ec2-backup-retention member role: lets the organization hub's worker tag (and, with expire, expire) this account's AMIs and EBS snapshots.",
    Resources: {
      [MEMBER_ROLE_LOGICAL_ID]: {
        Type: "AWS::IAM::Role",
        Properties: {
          RoleName: args.roleName,
          Description: "Assumed by the ec2-backup-retention hub's worker to tag this account's EC2 backups.",
          // The worker assumes it from its own role (role chaining), where one hour is STS's limit.
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                // The exact role, not its account: no other principal of the hub's account may
                // assume this one, and aws:PrincipalOrgID refuses it should the hub leave the
                // organization (IAM User Guide, global condition keys). IAM stores the principal as
                // the role's unique ID, so a role deleted and recreated under the same name is no
                // longer trusted (IAM User Guide, "AWS JSON policy elements: Principal"): the ID in
                // the Sid makes the document change with the role, so the StackSet rewrites it.
                Sid: `OnlyTheHubWorker${args.workerRoleId.replace(/[^A-Za-z0-9]/g, "")}`,
                Effect: "Allow",
                Principal: { AWS: args.workerRoleArn },
                Action: "sts:AssumeRole",
                Condition: { StringEquals: { "aws:PrincipalOrgID": args.organizationId } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: "TagEC2Backups",
              PolicyDocument: { Version: "2012-10-17", Statement: memberStatements(args) },
            },
          ],
        },
      },
    },
    Outputs: {
      RoleArn: { Value: { "Fn::GetAtt": [MEMBER_ROLE_LOGICAL_ID, "Arn"] } },
    },
  };
}
