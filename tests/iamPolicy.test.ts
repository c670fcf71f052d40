import { expect } from "chai";
import { LAMBDA_TRUST_POLICY, buildTaggerPolicy } from "../infra/iamPolicy";

const policy = buildTaggerPolicy({
  partition: "aws",
  region: "eu-west-1",
  logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/TagEC2Backups",
  tagKeys: ["Retention", "DeleteOn", "Owner"],
  failureQueueArn: "arn:aws:sqs:eu-west-1:123456789012:TagEC2Backups-failed-runs",
});
const actions = policy.Statement.flatMap((s) => s.Action);

describe("IAM policy", () => {
  it("allows exactly the six actions the function uses", () => {
    expect([...actions].sort()).to.deep.equal([
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
      "ForAllValues:StringEquals": { "aws:TagKeys": ["DeleteOn", "Owner", "Retention"] },
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
    });
    expect(JSON.stringify(gov)).to.include("arn:aws-us-gov:ec2:us-gov-west-1::image/*");
  });

  it("grants deletion only with expire on, scoped by ARN and by our Retention tag on the resource", () => {
    expect(actions).not.to.include("ec2:DeleteSnapshot");
    const withExpiry = buildTaggerPolicy({
      partition: "aws",
      region: "eu-west-1",
      logGroupArn: "x",
      tagKeys: ["Retention", "DeleteOn"],
      failureQueueArn: "y",
      expire: true,
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
        Condition: { StringLike: { "aws:ResourceTag/Retention": "*days" } },
      },
    ]);
  });

  it("lets only Lambda assume the role", () => {
    expect(LAMBDA_TRUST_POLICY.Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });
});
