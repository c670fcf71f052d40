// The tagger's IAM policy as plain data: the least the Lambda needs, tested without mocks.

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
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
  /** Grant deregistering and deleting expired backups. Default false. */
  expire?: boolean;
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
      ...(args.expire
        ? [
            {
              // Only with expire on, only this region's images and snapshots, and only those
              // carrying a Retention=<N>days tag: the role cannot delete a backup we never tagged.
              Sid: "ExpireOwnBackups",
              Effect: "Allow" as const,
              Action: ["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
              Resource: [
                `arn:${args.partition}:ec2:${args.region}::image/*`,
                `arn:${args.partition}:ec2:${args.region}::snapshot/*`,
              ],
              Condition: { StringLike: { "aws:ResourceTag/Retention": "*days" } },
            },
          ]
        : []),
    ],
  };
}
