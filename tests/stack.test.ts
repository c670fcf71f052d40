import { expect } from "chai";
import { EVERY_KEY_SET } from "./support/fixtures";
import {
  ACCOUNT,
  findResource,
  lambdaArchive,
  loadStack,
  registered,
  type StackOutputs,
} from "../local/pulumiMocks";

const REGION = "eu-west-1";

describe("stack under Pulumi's mock runtime", () => {
  let outputs: StackOutputs;

  before(async () => {
    outputs = await loadStack({ "aws:region": REGION });
  });

  it("registers the component and exactly its seven children", () => {
    expect(registered.map((r) => `${r.type} ${r.name}`).sort()).to.deep.equal([
      "aws:cloudwatch/eventRule:EventRule tagger-schedule",
      "aws:cloudwatch/eventTarget:EventTarget tagger-target",
      "aws:cloudwatch/logGroup:LogGroup tagger-logs",
      "aws:iam/role:Role tagger-role",
      "aws:iam/rolePolicy:RolePolicy tagger-policy",
      "aws:lambda/function:Function tagger-function",
      "aws:lambda/permission:Permission tagger-invoke",
      "ec2-backup-retention:index:BackupTagger tagger",
    ]);
  });

  it("names the role after the seed, per region, trusted by Lambda only, with nothing attached", () => {
    const role = findResource("aws:iam/role:Role");
    expect(role.inputs.name).to.equal(`TagEC2BackupsLambdaRole-${REGION}`);
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
      { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(role.inputs).not.to.have.property("managedPolicyArns");
    expect(
      registered
        .filter((r) => r.type.startsWith("aws:iam/") && r.type !== "aws:iam/role:Role")
        .map((r) => r.type),
    ).to.deep.equal(["aws:iam/rolePolicy:RolePolicy"]);
  });

  it("gives the role one inline policy: least privilege, scoped by ARN, tag keys and log group", () => {
    const policy = findResource("aws:iam/rolePolicy:RolePolicy");
    expect(policy.inputs.role).to.equal("tagger-role-id");
    const document = JSON.parse(policy.inputs.policy);
    const actions: string[] = document.Statement.flatMap((s: { Action: string[] }) => s.Action);
    expect(actions.every((a) => !a.includes("*"))).to.be.true;
    const tagging = document.Statement.find((s: { Action: string[] }) => s.Action.includes("ec2:CreateTags"));
    expect(tagging.Resource).to.deep.equal([
      `arn:aws:ec2:${REGION}::image/*`,
      `arn:aws:ec2:${REGION}::snapshot/*`,
    ]);
    expect(tagging.Condition["ForAllValues:StringEquals"]["aws:TagKeys"]).to.deep.equal([
      "DeleteOn",
      "Retention",
    ]);
    const logs = document.Statement.find((s: { Action: string[] }) => s.Action.includes("logs:PutLogEvents"));
    expect(logs.Resource).to.equal(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/TagEC2Backups:*`);
  });

  it("creates the log group the function logs to, with the configured retention", () => {
    const logGroup = findResource("aws:cloudwatch/logGroup:LogGroup");
    expect(logGroup.inputs).to.deep.include({ name: "/aws/lambda/TagEC2Backups", retentionInDays: 14 });
    const fn = findResource("aws:lambda/function:Function");
    // An input taken from the group's output: Pulumi creates the group first.
    expect(fn.inputs.loggingConfig).to.deep.include({ logGroup: "/aws/lambda/TagEC2Backups" });
  });

  it("pins the function's runtime, memory, timeout, role and environment", () => {
    const fn = findResource("aws:lambda/function:Function");
    expect(fn.inputs).to.deep.include({
      name: "TagEC2Backups",
      runtime: "nodejs22.x",
      handler: "__index.handler",
      memorySize: 224,
      timeout: 300,
      role: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}`,
    });
    expect(fn.inputs.environment.variables).to.deep.equal({
      RETENTION_DAYS: "90",
      EXTRA_TAGS: "{}",
      DRY_RUN: "false",
    });
  });

  it("uploads only the serialized handler, well under the 64 KB budget", async () => {
    const files = await lambdaArchive();
    expect(Object.keys(files)).to.deep.equal(["__index.js"]);
    expect(Buffer.byteLength(files["__index.js"])).to.be.below(64 * 1024);
  });

  it("serializes a handler that requires nothing but the SDK the runtime ships", async () => {
    const code = (await lambdaArchive())["__index.js"];
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.length).to.be.greaterThan(0);
    expect(required.every((name) => name.startsWith("@aws-sdk/client-ec2"))).to.be.true;
    expect(required.every((name) => Boolean(require.resolve(name)))).to.be.true;
    // A module-level Set or Map is captured as an empty object with borrowed methods: a silent bug.
    expect(code).not.to.match(/global\.(Set|Map)\.prototype/);
    expect(code).to.match(/exports\.handler = __createHandler\(\);/);
  });

  it("schedules the function with a rule named after the seed's, allowed to invoke it and nothing else", () => {
    const rule = findResource("aws:cloudwatch/eventRule:EventRule");
    expect(rule.inputs).to.deep.include({
      name: "TagEC2Backups-DailyEC2BackupTagger",
      scheduleExpression: "rate(1 day)",
    });
    const target = findResource("aws:cloudwatch/eventTarget:EventTarget");
    expect(target.inputs).to.deep.include({
      rule: "TagEC2Backups-DailyEC2BackupTagger",
      arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups`,
    });
    const permission = findResource("aws:lambda/permission:Permission");
    expect(permission.inputs).to.deep.include({
      action: "lambda:InvokeFunction",
      function: "TagEC2Backups",
      principal: "events.amazonaws.com",
      sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/TagEC2Backups-DailyEC2BackupTagger`,
    });
  });

  it("exports what operators look for", () => {
    expect(outputs).to.deep.equal({
      functionName: "TagEC2Backups",
      functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:TagEC2Backups`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-${REGION}`,
      logGroupName: "/aws/lambda/TagEC2Backups",
      ruleName: "TagEC2Backups-DailyEC2BackupTagger",
      schedule: "rate(1 day)",
      retentionDays: 90,
    });
  });
});

describe("stack config reaches the resources", () => {
  it("applies every key", async () => {
    await loadStack({
      "aws:region": "ap-southeast-2",
      ...EVERY_KEY_SET,
    });
    const fn = findResource("aws:lambda/function:Function");
    expect(fn.inputs).to.deep.include({ name: "TagBackupsProd", memorySize: 256, timeout: 600 });
    expect(fn.inputs.environment.variables).to.deep.equal({
      RETENTION_DAYS: "30",
      EXTRA_TAGS: '{"Owner":"infra"}',
      DRY_RUN: "true",
    });
    expect(findResource("aws:iam/role:Role").inputs.name).to.equal("TagBackupsProdLambdaRole-ap-southeast-2");
    expect(findResource("aws:cloudwatch/logGroup:LogGroup").inputs).to.deep.include({
      name: "/aws/lambda/TagBackupsProd",
      retentionInDays: 90,
    });
    expect(findResource("aws:cloudwatch/eventRule:EventRule").inputs).to.deep.include({
      name: "TagBackupsProd-DailyEC2BackupTagger",
      scheduleExpression: "cron(0 2 * * ? *)",
    });
    const document = JSON.parse(findResource("aws:iam/rolePolicy:RolePolicy").inputs.policy);
    const tagging = document.Statement.find((s: { Sid: string }) => s.Sid === "TagBackups");
    expect(tagging.Condition["ForAllValues:StringEquals"]["aws:TagKeys"]).to.deep.equal([
      "DeleteOn",
      "Owner",
      "Retention",
    ]);
    expect(tagging.Resource[0]).to.equal("arn:aws:ec2:ap-southeast-2::image/*");
  });

  it("refuses bad config with one error listing every bad key, before registering anything", async () => {
    let error: Error | undefined;
    await loadStack({
      "aws:region": REGION,
      retentionDays: "0",
      schedule: "rate(1 days)",
      extraTags: '{"DeleteOn":"x"}',
    }).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/^Invalid stack configuration \(3 problems\):/);
    expect(error?.message).to.include('ec2-backup-retention:retentionDays = "0"');
    expect(error?.message).to.include('ec2-backup-retention:schedule = "rate(1 days)"');
    expect(error?.message).to.include('ec2-backup-retention:extraTags = "{\\"DeleteOn\\":\\"x\\"}"');
    expect(registered).to.have.length(0);
  });

  it("refuses a stack without a region", async () => {
    let error: Error | undefined;
    await loadStack({}).catch((e: Error) => (error = e));
    expect(error?.message).to.include("aws:region = undefined: must be an AWS region");
  });
});
