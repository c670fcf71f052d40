// The tagger's IAM policy as plain data: the least the Lambda needs, tested without mocks.
import { BATCH_KEY, DELETE_ON_KEY, RETENTION_KEY } from "../handler/tagRules";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: string | Record<string, string>;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface TaggerPolicyArgs {
  partition: string;
  region: string;
  /** ARN of the function's log group, without the trailing `:*`. */
  logGroupArn: string;
  /** Every tag key the tagger may write: Retention, DeleteOn and the extra tags. */
  tagKeys: string[];
  /** The queue Lambda sends failed asynchronous invocations to, as the function's role. */
  failureQueueArn: string;
  /** The ledger's DynamoDB table: the function records dating batches there and reads them back. */
  ledgerTableArn: string;
  /** Grant deregistering and deleting expired backups. Default false. */
  expire?: boolean;
  /** With expire: the exact Retention value expiry may delete under, e.g. "90days". */
  retentionValue?: string;
  /** With expire: the topic the deletion notice goes to; none when undefined. */
  noticeTopicArn?: string;
}

/** Every DynamoDB action that writes items: only the function's role may use them on the ledger. */
export const LEDGER_WRITE_ACTIONS = [
  "dynamodb:BatchWriteItem",
  "dynamodb:DeleteItem",
  "dynamodb:PartiQLDelete",
  "dynamodb:PartiQLInsert",
  "dynamodb:PartiQLUpdate",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
];

/**
 * The ledger table's resource policy: whatever identity policies say, no principal but the
 * function's role can write an item, so nobody else can make a backup deletable. (For a role,
 * aws:PrincipalArn is the role's ARN, not the session's: IAM User Guide, global condition keys.)
 */
export function buildLedgerPolicy(args: { tableArn: string; writerRoleArn: string }): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OnlyTheTaggerWritesProof",
        Effect: "Deny",
        Principal: "*",
        Action: LEDGER_WRITE_ACTIONS,
        Resource: args.tableArn,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": args.writerRoleArn } },
      },
    ],
  };
}

/** Lets the Lambda service, and nothing else, assume the role. */
export const LAMBDA_TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" },
      Action: "sts:AssumeRole",
    },
  ],
};

export function buildTaggerPolicy(args: TaggerPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // EC2's Describe actions support no resource-level permissions: "*" is the only option.
        Sid: "ListBackups",
        Effect: "Allow",
        Action: ["ec2:DescribeImages", "ec2:DescribeSnapshots"],
        Resource: "*",
      },
      {
        // Images and snapshots in this region only, and only our tag keys: the role cannot retag
        // instances or volumes, nor write a key the tagger does not own.
        Sid: "TagBackups",
        Effect: "Allow",
        Action: ["ec2:CreateTags"],
        Resource: [
          `arn:${args.partition}:ec2:${args.region}::image/*`,
          `arn:${args.partition}:ec2:${args.region}::snapshot/*`,
        ],
        Condition: {
          "ForAllValues:StringEquals": { "aws:TagKeys": [...args.tagKeys].sort() },
          Null: { "aws:TagKeys": "false" },
        },
      },
      {
        // The stack creates the log group, so no logs:CreateLogGroup.
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${args.logGroupArn}:*`,
      },
      {
        // Lambda delivers the on-failure destination with the function's own role.
        Sid: "SendFailedRuns",
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: args.failureQueueArn,
      },
      {
        // Record each dating batch (entries are written once, never updated) and read them back.
        Sid: "RecordAndReadProof",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: args.ledgerTableArn,
      },
      ...(args.expire
        ? [
            {
              // Only with expire on, only this region's images and snapshots, and only those that
              // carry exactly the current Retention, a DeleteOn and a RetentionBatch tag at the
              // moment of the call: a tag changed after the run's check is refused by AWS too.
              Sid: "ExpireOwnBackups",
              Effect: "Allow" as const,
              Action: ["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
              Resource: [
                `arn:${args.partition}:ec2:${args.region}::image/*`,
                `arn:${args.partition}:ec2:${args.region}::snapshot/*`,
              ],
              Condition: {
                StringEquals: { [`aws:ResourceTag/${RETENTION_KEY}`]: args.retentionValue ?? "" },
                Null: {
                  [`aws:ResourceTag/${DELETE_ON_KEY}`]: "false",
                  [`aws:ResourceTag/${BATCH_KEY}`]: "false",
                },
              },
            },
          ]
        : []),
      ...(args.expire && args.noticeTopicArn
        ? [
            {
              // One message per run listing the backups about to fall due.
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
