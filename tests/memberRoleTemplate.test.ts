// The StackSet's template and the hub's two policies, as data: no mocks.
import { expect } from "chai";
import { buildTaggerPolicy, type PolicyStatement } from "../infra/iamPolicy";
import { MEMBER_ROLE_LOGICAL_ID, buildMemberRoleTemplate } from "../infra/memberRoleTemplate";
import { buildDispatcherPolicy, buildWorkerPolicy } from "../infra/organizationPolicies";

const WORKER = "arn:aws:iam::111122223333:role/TagEC2BackupsOrgWorker-us-east-1";
const ORG = "o-a1b2c3d4e5";
const base = {
  roleName: "TagEC2BackupsRole",
  workerRoleArn: WORKER,
  workerRoleId: "AROAEXAMPLEWORKER01",
  organizationId: ORG,
  regions: ["us-east-1", "eu-west-1"],
  tagKeys: ["Retention", "DeleteOn", "RetentionBatch", "Owner"],
  expire: false,
  retentionValue: "90days",
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Template = any;
const role = (template: Template) => template.Resources[MEMBER_ROLE_LOGICAL_ID];
const statements = (template: Template) => role(template).Properties.Policies[0].PolicyDocument.Statement;

/** The function role's statement `sid` for `region`, its ARNs as CloudFormation resolves them in `partition`. */
function functionStatement(sid: string, region: string, partition: string, expire = false): PolicyStatement {
  return buildTaggerPolicy({
    partition,
    region,
    logGroupArn: "x",
    failureQueueArn: "x",
    ledgerTableArn: "x",
    tagKeys: base.tagKeys,
    expire,
    retentionValue: base.retentionValue,
  }).Statement.find((s) => s.Sid === sid) as PolicyStatement;
}

/** What CloudFormation makes of Fn::Sub with ${AWS::Partition} in a member account. */
function resolve(value: unknown, partition: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, partition));
  }
  if (typeof value === "object" && value !== null) {
    const sub = (value as { "Fn::Sub"?: string })["Fn::Sub"];
    if (sub !== undefined) {
      return sub.replace(/\$\{AWS::Partition\}/g, partition);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, partition)]));
  }
  return value;
}

describe("member role template", () => {
  it("is a CloudFormation template of one named IAM role and its ARN", () => {
    const template = buildMemberRoleTemplate(base) as Template;
    expect(template.AWSTemplateFormatVersion).to.equal("2010-09-09");
    expect(Object.keys(template.Resources)).to.deep.equal([MEMBER_ROLE_LOGICAL_ID]);
    expect(role(template).Type).to.equal("AWS::IAM::Role");
    expect(role(template).Properties).to.deep.include({ RoleName: base.roleName, MaxSessionDuration: 3600 });
    expect(template.Outputs.RoleArn.Value).to.deep.equal({ "Fn::GetAtt": [MEMBER_ROLE_LOGICAL_ID, "Arn"] });
    // StackSets take a template body of at most 51,200 bytes.
    expect(JSON.stringify(template).length).to.be.below(51_200);
  });

  it("trusts the hub's worker role alone, by exact ARN, and only from inside the organization", () => {
    expect(role(buildMemberRoleTemplate(base)).Properties.AssumeRolePolicyDocument).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OnlyTheHubWorkerAROAEXAMPLEWORKER01",
          Effect: "Allow",
          Principal: { AWS: WORKER },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:PrincipalOrgID": ORG } },
        },
      ],
    });
  });

  it("changes the trust document when the worker's role is recreated under the same name", () => {
    // IAM keeps the unique ID a trusted ARN had; only a new document makes it look the ARN up again.
    const trust = (workerRoleId: string) =>
      JSON.stringify(
        role(buildMemberRoleTemplate({ ...base, workerRoleId })).Properties.AssumeRolePolicyDocument,
      );
    expect(trust("AROAEXAMPLEWORKER02")).not.to.equal(trust("AROAEXAMPLEWORKER01"));
    // A Sid takes letters and digits only.
    expect(JSON.parse(trust("AROA-x_1")).Statement[0].Sid).to.equal("OnlyTheHubWorkerAROAx1");
  });

  for (const partition of ["aws", "aws-cn", "aws-us-gov"]) {
    it(`carries the function role's EC2 statements for every region, in ${partition}`, () => {
      const resolved = resolve(statements(buildMemberRoleTemplate(base)), partition) as PolicyStatement[];
      expect(resolved.map((s) => s.Sid)).to.deep.equal(["ListBackups", "TagBackups"]);
      expect(resolved[0]).to.deep.equal(functionStatement("ListBackups", "us-east-1", partition));
      const tagging = ["us-east-1", "eu-west-1"].map((r) => functionStatement("TagBackups", r, partition));
      expect(resolved[1]).to.deep.equal({
        ...tagging[0],
        Resource: tagging.flatMap((s) => s.Resource),
      });
      expect(resolved[1].Resource).to.include(`arn:${partition}:ec2:eu-west-1::snapshot/*`);
      expect(resolved[1].Condition?.["ForAllValues:StringEquals"]["aws:TagKeys"]).to.deep.equal([
        "DeleteOn",
        "Owner",
        "Retention",
        "RetentionBatch",
      ]);
    });
  }

  it("names the partition only through ${AWS::Partition}, never a literal one", () => {
    const text = JSON.stringify(statements(buildMemberRoleTemplate(base)));
    expect(text).not.to.match(/arn:aws[:-]/);
    expect(text.match(/arn:\$\{AWS::Partition\}:ec2:/g)).to.have.length(4);
  });

  it("grants expiry, with the exact-Retention and Null conditions, only when expire is on", () => {
    const expiring = resolve(
      statements(buildMemberRoleTemplate({ ...base, expire: true })),
      "aws",
    ) as PolicyStatement[];
    expect(expiring.map((s) => s.Sid)).to.deep.equal(["ListBackups", "TagBackups", "ExpireOwnBackups"]);
    const functionExpire = ["us-east-1", "eu-west-1"].map((r) =>
      functionStatement("ExpireOwnBackups", r, "aws", true),
    );
    expect(expiring[2]).to.deep.equal({
      ...functionExpire[0],
      Resource: functionExpire.flatMap((s) => s.Resource),
    });
    expect(expiring[2].Condition).to.deep.equal({
      StringEquals: { "aws:ResourceTag/Retention": "90days" },
      Null: { "aws:ResourceTag/DeleteOn": "false", "aws:ResourceTag/RetentionBatch": "false" },
    });
  });

  it("holds nothing of the function role beyond EC2: no logs, queues, ledger or topic", () => {
    const granted = statements(buildMemberRoleTemplate({ ...base, expire: true })) as PolicyStatement[];
    expect(granted.flatMap((s) => s.Action).filter((action) => !action.startsWith("ec2:"))).to.deep.equal([]);
    expect(role(buildMemberRoleTemplate(base)).Properties.Policies).to.have.length(1);
    expect(role(buildMemberRoleTemplate(base)).Properties).not.to.have.property("ManagedPolicyArns");
  });
});

describe("hub policies", () => {
  const logGroupArn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/TagEC2Backups-org-worker";
  const queueArn = "arn:aws:sqs:us-east-1:111122223333:TagEC2Backups-org-targets";
  const tableArn = "arn:aws:dynamodb:us-east-1:111122223333:table/TagEC2Backups-org-ledger";

  it("lets the dispatcher read the organization's structure, send to its queue and log, nothing else", () => {
    expect(buildDispatcherPolicy({ logGroupArn, targetQueueArn: queueArn }).Statement).to.deep.equal([
      {
        Sid: "ReadOrganization",
        Effect: "Allow",
        Action: [
          "organizations:DescribeOrganization",
          "organizations:ListAccountsForParent",
          "organizations:ListOrganizationalUnitsForParent",
        ],
        Resource: "*",
      },
      { Sid: "SendTargets", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queueArn },
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroupArn}:*`,
      },
    ]);
  });

  it("lets the worker assume the member role in the organization's accounts only, and use its queue, ledger and logs", () => {
    const policy = buildWorkerPolicy({
      partition: "aws-us-gov",
      logGroupArn,
      targetQueueArn: queueArn,
      ledgerTableArn: tableArn,
      memberRoleName: "TagEC2BackupsRole",
      organizationId: ORG,
    });
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "AssumeMemberRoles",
        Effect: "Allow",
        Action: ["sts:AssumeRole"],
        Resource: "arn:aws-us-gov:iam::*:role/TagEC2BackupsRole",
        Condition: { StringEquals: { "aws:ResourceOrgID": ORG } },
      },
      {
        Sid: "ReceiveTargets",
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        Resource: queueArn,
      },
      {
        Sid: "RecordAndReadProof",
        Effect: "Allow",
        Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: tableArn,
      },
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logGroupArn}:*`,
      },
    ]);
    // No EC2 in the hub: every EC2 permission is the member role's.
    expect(JSON.stringify(policy)).not.to.include("ec2:");
    const withNotice = buildWorkerPolicy({
      partition: "aws",
      logGroupArn,
      targetQueueArn: queueArn,
      ledgerTableArn: tableArn,
      memberRoleName: "TagEC2BackupsRole",
      organizationId: ORG,
      noticeTopicArn: "arn:aws:sns:us-east-1:111122223333:TagEC2Backups-org-alarms",
    });
    expect(withNotice.Statement.at(-1)).to.deep.equal({
      Sid: "SendDeletionNotice",
      Effect: "Allow",
      Action: ["sns:Publish"],
      Resource: "arn:aws:sns:us-east-1:111122223333:TagEC2Backups-org-alarms",
    });
  });
});
