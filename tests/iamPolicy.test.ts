import { expect } from "chai";
import {
  LAMBDA_TRUST_POLICY,
  LEDGER_WRITE_ACTIONS,
  buildLedgerPolicy,
  buildTaggerPolicy,
} from "../infra/iamPolicy";

const LEDGER = "arn:aws:dynamodb:eu-west-1:123456789012:table/TagEC2Backups-ledger";
const policy = buildTaggerPolicy({
  partition: "aws",
  region: "eu-west-1",
  logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/TagEC2Backups",
  tagKeys: ["Retention", "DeleteOn", "RetentionBatch", "Owner"],
  failureQueueArn: "arn:aws:sqs:eu-west-1:123456789012:TagEC2Backups-failed-runs",
  ledgerTableArn: LEDGER,
});
const actions = policy.Statement.flatMap((s) => s.Action);

describe("IAM policy", () => {
  it("allows exactly the nine actions the function uses", () => {
    expect([...actions].sort()).to.deep.equal([
      "dynamodb:BatchGetItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "ec2:CreateTags",
      "ec2:DescribeImages",
      "ec2:DescribeSnapshots",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "sqs:SendMessage",
    ]);
  });

  it("lets the role send only to the failed-runs queue", () => {
    const sqs = policy.Statement.find((s) => s.Action.includes("sqs:SendMessage"));
    expect(sqs?.Resource).to.equal("arn:aws:sqs:eu-west-1:123456789012:TagEC2Backups-failed-runs");
  });

  it("has no wildcard actions and no logs:CreateLogGroup", () => {
    expect(actions.some((a) => a.includes("*"))).to.be.false;
    expect(actions).not.to.include("logs:CreateLogGroup");
  });

  it("scopes CreateTags to this region's images and snapshots and to the keys the tagger writes", () => {
    const tagging = policy.Statement.find((s) => s.Action.includes("ec2:CreateTags"));
    expect(tagging?.Resource).to.deep.equal([
      "arn:aws:ec2:eu-west-1::image/*",
      "arn:aws:ec2:eu-west-1::snapshot/*",
    ]);
    expect(tagging?.Condition).to.deep.equal({
      "ForAllValues:StringEquals": { "aws:TagKeys": ["DeleteOn", "Owner", "Retention", "RetentionBatch"] },
      Null: { "aws:TagKeys": "false" },
    });
  });

  it("puts only the Describe actions, which support no resource scoping, on *", () => {
    const onStar = policy.Statement.filter((s) => s.Resource === "*").flatMap((s) => s.Action);
    expect(onStar).to.deep.equal(["ec2:DescribeImages", "ec2:DescribeSnapshots"]);
  });

  it("scopes log writes to the function's own log group", () => {
    const logs = policy.Statement.find((s) => s.Action.includes("logs:PutLogEvents"));
    expect(logs?.Resource).to.equal(
      "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/TagEC2Backups:*",
    );
  });

  it("follows the partition", () => {
    const gov = buildTaggerPolicy({
      partition: "aws-us-gov",
      region: "us-gov-west-1",
      logGroupArn: "x",
      tagKeys: ["Retention"],
      failureQueueArn: "y",
      ledgerTableArn: "z",
    });
    expect(JSON.stringify(gov)).to.include("arn:aws-us-gov:ec2:us-gov-west-1::image/*");
  });

  it("lets the role record and read proof in its own ledger table only", () => {
    const ledger = policy.Statement.find((s) => s.Action.includes("dynamodb:PutItem"));
    expect(ledger).to.deep.include({
      Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
      Resource: LEDGER,
    });
  });

  it("grants deletion only with expire on, only on the exact current Retention with DeleteOn and proof tags present", () => {
    expect(actions).not.to.include("ec2:DeleteSnapshot");
    const withExpiry = buildTaggerPolicy({
      partition: "aws",
      region: "eu-west-1",
      logGroupArn: "x",
      tagKeys: ["Retention", "DeleteOn"],
      failureQueueArn: "y",
      ledgerTableArn: LEDGER,
      expire: true,
      retentionValue: "90days",
    });
    const expiring = withExpiry.Statement.filter((st) =>
      st.Action.some(
        (a) => a.startsWith("ec2:De") && a !== "ec2:DescribeImages" && a !== "ec2:DescribeSnapshots",
      ),
    );
    expect(expiring).to.deep.equal([
      {
        Sid: "ExpireOwnBackups",
        Effect: "Allow",
        Action: ["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
        Resource: ["arn:aws:ec2:eu-west-1::image/*", "arn:aws:ec2:eu-west-1::snapshot/*"],
        Condition: {
          StringEquals: { "aws:ResourceTag/Retention": "90days" },
          Null: { "aws:ResourceTag/DeleteOn": "false", "aws:ResourceTag/RetentionBatch": "false" },
        },
      },
    ]);
  });

  it("lets the role publish the deletion notice only with expire on and a topic", () => {
    const base = {
      partition: "aws",
      region: "eu-west-1",
      logGroupArn: "x",
      tagKeys: ["Retention"],
      failureQueueArn: "y",
      ledgerTableArn: LEDGER,
    };
    const topic = "arn:aws:sns:eu-west-1:123456789012:TagEC2Backups-alarms";
    const publish = (args: Parameters<typeof buildTaggerPolicy>[0]) =>
      buildTaggerPolicy(args).Statement.filter((s) => s.Action.includes("sns:Publish"));
    expect(publish({ ...base, noticeTopicArn: topic })).to.deep.equal([]);
    expect(publish({ ...base, expire: true })).to.deep.equal([]);
    expect(publish({ ...base, expire: true, noticeTopicArn: topic })).to.deep.equal([
      { Sid: "SendDeletionNotice", Effect: "Allow", Action: ["sns:Publish"], Resource: topic },
    ]);
  });

  it("the ledger's own policy denies every item write to everyone but the function's role", () => {
    const role = "arn:aws:iam::123456789012:role/TagEC2BackupsLambdaRole-eu-west-1";
    expect(buildLedgerPolicy({ tableArn: LEDGER, writerRoleArn: role })).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OnlyTheTaggerWritesProof",
          Effect: "Deny",
          Principal: "*",
          Action: LEDGER_WRITE_ACTIONS,
          Resource: LEDGER,
          Condition: { ArnNotEquals: { "aws:PrincipalArn": role } },
        },
      ],
    });
    for (const action of [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
    ]) {
      expect(LEDGER_WRITE_ACTIONS).to.include(action);
    }
  });

  it("lets only Lambda assume the role", () => {
    expect(LAMBDA_TRUST_POLICY.Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });
});
