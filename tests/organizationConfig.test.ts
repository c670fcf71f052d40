// Organization mode's config keys: parsed, defaulted, and refused with key, value and what is allowed.
import { expect } from "chai";
import { parseConfig, type StackConfig } from "../infra/config";
import { ORGANIZATION_DEFAULTS } from "../infra/organizationConfig";
import { loadStack, registered } from "../local/pulumiMocks";

const ON = {
  "aws:region": "us-east-1",
  organization: "true",
  organizationUnits: '["r-ab12"]',
};

function configOf(raw: Record<string, string>): StackConfig {
  const result = parseConfig(raw);
  expect(result.ok, JSON.stringify(result)).to.be.true;
  return (result as { config: StackConfig }).config;
}

function errorsOf(raw: Record<string, string>): string[] {
  const result = parseConfig(raw);
  expect(result.ok, JSON.stringify(raw)).to.be.false;
  return (result as { errors: string[] }).errors;
}

describe("organization config", () => {
  it("is off by default, with every organization key at its default", () => {
    const config = configOf({ "aws:region": "us-east-1" });
    for (const [key, value] of Object.entries(ORGANIZATION_DEFAULTS)) {
      expect(config[key as keyof StackConfig], key).to.deep.equal(value);
    }
    expect(config.organization).to.be.false;
  });

  it("parses every organization key", () => {
    const config = configOf({
      ...ON,
      regions: '["us-east-1","eu-west-1"]',
      organizationUnits: '["r-ab12","ou-ab12-abcdefgh"]',
      includeAccounts: '["111122223333","444455556666"]',
      excludeAccounts: '["777788889999"]',
      excludeUnits: '["ou-ab12-sandbox1"]',
      memberRoleName: "BackupTaggerMember",
      workerConcurrency: "20",
      callAs: "DELEGATED_ADMIN",
    });
    expect(config).to.deep.include({
      organization: true,
      organizationUnits: ["r-ab12", "ou-ab12-abcdefgh"],
      includeAccounts: ["111122223333", "444455556666"],
      excludeAccounts: ["777788889999"],
      excludeUnits: ["ou-ab12-sandbox1"],
      memberRoleName: "BackupTaggerMember",
      workerConcurrency: 20,
      callAs: "DELEGATED_ADMIN",
      targetRegions: ["us-east-1", "eu-west-1"],
      region: "us-east-1",
    });
  });

  it("names the key, the value and what is allowed for each bad value", () => {
    const cases: [Record<string, string>, string][] = [
      [{ organization: "yes" }, 'ec2-backup-retention:organization = "yes": must be true or false'],
      [
        { ...ON, organizationUnits: '["ou-bad"]' },
        'ec2-backup-retention:organizationUnits = "[\\"ou-bad\\"]": "ou-bad": must be root IDs (r-xxxx) or OU IDs (ou-xxxx-xxxxxxxx)',
      ],
      [
        { ...ON, organizationUnits: "r-ab12" },
        'ec2-backup-retention:organizationUnits = "r-ab12": must be a JSON list of root IDs (r-xxxx) or OU IDs (ou-xxxx-xxxxxxxx)',
      ],
      [
        { ...ON, organizationUnits: "[]" },
        'ec2-backup-retention:organizationUnits = "[]": must list at least one of root IDs (r-xxxx) or OU IDs (ou-xxxx-xxxxxxxx)',
      ],
      [
        { "aws:region": "us-east-1", organization: "true" },
        "ec2-backup-retention:organizationUnits = undefined: must be set with organization: a JSON list of root IDs (r-xxxx) or OU IDs (ou-xxxx-xxxxxxxx)",
      ],
      [
        { ...ON, includeAccounts: '["1234"]' },
        'ec2-backup-retention:includeAccounts = "[\\"1234\\"]": "1234": must be 12-digit account IDs',
      ],
      [
        { ...ON, excludeAccounts: '["111122223333","111122223333"]' },
        'ec2-backup-retention:excludeAccounts = "[\\"111122223333\\",\\"111122223333\\"]": lists 111122223333 more than once',
      ],
      [
        { ...ON, includeAccounts: '["111122223333"]', excludeAccounts: '["111122223333"]' },
        'ec2-backup-retention:excludeAccounts = "[\\"111122223333\\"]": 111122223333 also listed in includeAccounts',
      ],
      [
        { ...ON, excludeUnits: '["r-ab12"]' },
        'ec2-backup-retention:excludeUnits = "[\\"r-ab12\\"]": "r-ab12": must be OU IDs (ou-xxxx-xxxxxxxx); a root cannot be excluded',
      ],
      [
        {
          ...ON,
          organizationUnits: '["ou-ab12-abcdefgh"]',
          excludeUnits: '["ou-ab12-abcdefgh"]',
        },
        'ec2-backup-retention:excludeUnits = "[\\"ou-ab12-abcdefgh\\"]": ou-ab12-abcdefgh also listed in organizationUnits',
      ],
      [
        { ...ON, memberRoleName: "has space" },
        'ec2-backup-retention:memberRoleName = "has space": must be an IAM role name: 1 to 64 letters, digits, + = , . @ _ -',
      ],
      [
        { ...ON, workerConcurrency: "1" },
        'ec2-backup-retention:workerConcurrency = "1": must be an integer from 2 to 1000 (the SQS event source mapping\'s maximum concurrency)',
      ],
      [
        { ...ON, callAs: "ADMIN" },
        'ec2-backup-retention:callAs = "ADMIN": must be SELF (the stack runs in the management account) or DELEGATED_ADMIN (in a delegated administrator for StackSets)',
      ],
      [
        { ...ON, reservedConcurrency: "true" },
        'ec2-backup-retention:reservedConcurrency = "true": does not apply in organization mode: workerConcurrency bounds the workers',
      ],
      [
        { ...ON, expire: "true" },
        'ec2-backup-retention:recycleBinDays = "7": organization mode deploys no Recycle Bin rules to member accounts yet: with expire, set recycleBinDays to 0 to accept deletions without that undo',
      ],
      [
        { ...ON, namePrefix: "Tag_Backups" },
        'ec2-backup-retention:namePrefix = "Tag_Backups": in organization mode must start with a letter and hold only letters, digits and - (it names the StackSet), at most 41 characters so that <prefix>OrgDispatcher-us-east-1 fits in 64',
      ],
      [
        { organization: "true", organizationUnits: '["r-ab12"]', regions: '["us-east-1"]' },
        "aws:region = undefined: organization mode needs aws:region: the hub's region (regions lists the regions covered in every account)",
      ],
    ];
    for (const [raw, expected] of cases) {
      // The region is the cases' own: the last one leaves aws:region out on purpose.
      const withRegion =
        "aws:region" in raw || "regions" in raw ? raw : { "aws:region": "us-east-1", ...raw };
      expect(errorsOf(withRegion)).to.include(expected);
    }
  });

  it("refuses organization keys set while organization is off, rather than ignore them", () => {
    const errors = errorsOf({
      "aws:region": "us-east-1",
      organizationUnits: '["r-ab12"]',
      workerConcurrency: "9",
      callAs: "bad",
    });
    expect(errors).to.deep.equal([
      'ec2-backup-retention:callAs = "bad": must be SELF (the stack runs in the management account) or DELEGATED_ADMIN (in a delegated administrator for StackSets)',
      'ec2-backup-retention:organizationUnits = "[\\"r-ab12\\"]": applies only with organization set to true',
      'ec2-backup-retention:workerConcurrency = "9": applies only with organization set to true',
    ]);
    // The CLI hands the program Pulumi.yaml's defaults: those are not "set".
    configOf({ "aws:region": "us-east-1", organizationUnits: "[]", workerConcurrency: "5", callAs: "SELF" });
  });

  it("lets an alarm topic in the hub's region serve an organization of several regions", () => {
    const config = configOf({
      ...ON,
      regions: '["us-east-1","eu-west-1"]',
      alarmTopicArn: "arn:aws:sns:us-east-1:111122223333:ops",
    });
    expect(config.alarmTopicArn).to.equal("arn:aws:sns:us-east-1:111122223333:ops");
    expect(
      errorsOf({ ...ON, alarmTopicArn: "arn:aws:sns:eu-west-1:111122223333:ops" }).join("\n"),
    ).to.include("is in eu-west-1, but the alarms are in us-east-1");
  });

  it("refuses bad organization config before registering any resource", async () => {
    let error: Error | undefined;
    await loadStack({ ...ON, workerConcurrency: "0", memberRoleName: "a/b" }).catch(
      (e: Error) => (error = e),
    );
    expect(error?.message).to.match(/^Invalid stack configuration \(2 problems\):/);
    expect(error?.message).to.include('memberRoleName = "a/b"');
    expect(error?.message).to.include('workerConcurrency = "0"');
    expect(registered).to.have.length(0);
  });
});
