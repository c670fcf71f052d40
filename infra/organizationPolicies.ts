// Organization mode's hub policies as plain data: each function's role holds what that function
// does and nothing more. The member accounts' role is in memberRoleTemplate.ts.
import type { PolicyDocument, PolicyStatement } from "./iamPolicy";

export interface DispatcherPolicyArgs {
  logGroupArn: string;
  /** The queue the dispatcher sends one message per target to. */
  targetQueueArn: string;
}

/** The read-only Organizations actions the dispatcher calls, and no other. */
export const ORGANIZATION_READ_ACTIONS = [
  "organizations:DescribeOrganization",
  "organizations:ListAccountsForParent",
  "organizations:ListOrganizationalUnitsForParent",
];

const writeOwnLogs = (logGroupArn: string): PolicyStatement => ({
  // The stack creates the log group, so no logs:CreateLogGroup.
  Sid: "WriteOwnLogs",
  Effect: "Allow",
  Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
  Resource: `${logGroupArn}:*`,
});

export function buildDispatcherPolicy(args: DispatcherPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // Read-only, over the organization's structure; these actions are granted on "*" (the
        // recursive walk reaches OUs created after deployment, which no ARN list could name).
        Sid: "ReadOrganization",
        Effect: "Allow",
        Action: ORGANIZATION_READ_ACTIONS,
        Resource: "*",
      },
      {
        // SendMessageBatch is authorized as sqs:SendMessage (SQS Developer Guide, API permissions).
        Sid: "SendTargets",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: args.targetQueueArn,
      },
      writeOwnLogs(args.logGroupArn),
    ],
  };
}

export interface WorkerPolicyArgs {
  partition: string;
  logGroupArn: string;
  targetQueueArn: string;
  ledgerTableArn: string;
  memberRoleName: string;
  /** The organization the member roles must belong to (aws:ResourceOrgID). */
  organizationId: string;
  /** With expire: the topic the deletion notices go to; none when undefined. */
  noticeTopicArn?: string;
}

export function buildWorkerPolicy(args: WorkerPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // The member role by name in any account, but only in accounts of this organization: the
        // role is the resource, so aws:ResourceOrgID is its account's organization (IAM User
        // Guide, global condition keys). Every EC2 permission comes from the member role.
        Sid: "AssumeMemberRoles",
        Effect: "Allow",
        Action: ["sts:AssumeRole"],
        Resource: `arn:${args.partition}:iam::*:role/${args.memberRoleName}`,
        Condition: { StringEquals: { "aws:ResourceOrgID": args.organizationId } },
      },
      {
        // What the SQS event source mapping calls with the function's role (Lambda Developer
        // Guide, "Using Lambda with Amazon SQS": execution role permissions).
        Sid: "ReceiveTargets",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        Resource: args.targetQueueArn,
      },
      {
        // Record each dating batch (entries are written once, never updated) and read them back.
        Sid: "RecordAndReadProof",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: args.ledgerTableArn,
      },
      writeOwnLogs(args.logGroupArn),
      ...(args.noticeTopicArn
        ? [
            {
              // One message per target and run listing the backups about to fall due.
              Sid: "SendDeletionNotice",
              Effect: "Allow" as const,
              Action: ["sns:Publish"],
              Resource: args.noticeTopicArn,
            },
          ]
        : []),
    ],
  };
}
