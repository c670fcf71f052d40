import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { DEFAULTS, PROJECT_KEYS, configErrorMessage, parseConfig } from "../infra/config";
import { ORGANIZATION_DEFAULTS } from "../infra/organizationConfig";
import { EVERY_KEY_SET } from "./support/fixtures";

const root = join(__dirname, "..");
const region = { "aws:region": "eu-west-1" };

function errorsOf(raw: Record<string, string>): string[] {
  const result = parseConfig({ ...region, ...raw });
  expect(result.ok, JSON.stringify(raw)).to.be.false;
  return (result as { errors: string[] }).errors;
}

describe("stack config", () => {
  it("applies the defaults when only the region is set", () => {
    // alarmMissingRunHours 0 means "derive it": 1 hour between runs plus one.
    expect(parseConfig(region)).to.deep.equal({
      ok: true,
      config: {
        region: "eu-west-1",
        awsRegion: "eu-west-1",
        targetRegions: ["eu-west-1"],
        ...DEFAULTS,
        alarmMissingRunHours: 2,
      },
    });
  });

  it("declares every key in Pulumi.yaml with the program's default, a type and a description", () => {
    const declared = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")).config as Record<
      string,
      { type: string; default: unknown; description: string }
    >;
    expect(Object.keys(declared).sort()).to.deep.equal([...PROJECT_KEYS].sort());
    for (const key of PROJECT_KEYS) {
      const { type, default: value, description } = declared[key];
      const programDefault: unknown = DEFAULTS[key];
      // Maps are JSON strings in Pulumi.yaml (its schema has no map type); lists are arrays.
      const isMap =
        typeof programDefault === "object" && programDefault !== null && !Array.isArray(programDefault);
      const expected = isMap ? JSON.stringify(programDefault) : programDefault;
      expect(value, key).to.deep.equal(expected);
      expect(description, key).to.be.a("string").and.not.be.empty;
      const expectedType = Array.isArray(expected)
        ? "array"
        : typeof expected === "number"
          ? "integer"
          : typeof expected;
      expect(type, key).to.equal(expectedType);
    }
  });

  it("reads Pulumi.dev.yaml as a valid stack", () => {
    const stack = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8")).config as Record<string, string>;
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(stack)) {
      raw[key.startsWith("ec2-backup-retention:") ? key.slice("ec2-backup-retention:".length) : key] =
        String(value);
    }
    expect(parseConfig(raw)).to.have.property("ok", true);
  });

  it("parses every key", () => {
    const result = parseConfig({
      "aws:region": "ap-southeast-2",
      ...EVERY_KEY_SET,
    });
    expect(result).to.deep.equal({
      ok: true,
      config: {
        region: "ap-southeast-2",
        awsRegion: "ap-southeast-2",
        targetRegions: ["ap-southeast-2"],
        retentionDays: 30,
        schedule: "cron(0 2 * * ? *)",
        logRetentionDays: 90,
        memorySize: 256,
        timeoutSeconds: 600,
        extraTags: { Owner: "infra" },
        dryRun: true,
        namePrefix: "TagBackupsProd",
        logLevel: "DEBUG",
        metricsNamespace: "Backups/Tagger",
        alarms: true,
        alarmTopicArn: "arn:aws:sns:ap-southeast-2:123456789012:ops-alerts",
        alarmTopicArns: {},
        alarmEmail: "ops@example.com",
        alarmDurationSeconds: 120,
        alarmMissingRunHours: 25,
        reservedConcurrency: true,
        dashboard: false,
        regions: [],
        includeTags: { Backup: "*" },
        excludeTags: { Env: "dev" },
        manageAmis: true,
        manageSnapshots: true,
        deleteOnFrom: "creation",
        expire: true,
        maxDeletionsPerRun: 10,
        sweepHours: 48,
        expireGraceDays: 3,
        expireNoticeDays: 14,
        adoptUnprovenTags: true,
        recycleBinDays: 30,
        // Organization mode's keys stay off here (tests/organizationConfig.test.ts sets them).
        ...ORGANIZATION_DEFAULTS,
      },
    });
  });

  it("takes several regions, and then needs no aws:region", () => {
    const result = parseConfig({ regions: '["us-east-1","eu-west-1","ap-southeast-2"]' });
    expect(result.ok).to.be.true;
    expect((result as { config: { regions: string[] } }).config.regions).to.deep.equal([
      "us-east-1",
      "eu-west-1",
      "ap-southeast-2",
    ]);
  });

  it("names the key, the value and what is allowed for each bad value", () => {
    const cases: [Record<string, string>, string][] = [
      [
        { retentionDays: "0" },
        'ec2-backup-retention:retentionDays = "0": must be an integer from 1 to 36500',
      ],
      [
        { retentionDays: "90.5" },
        'ec2-backup-retention:retentionDays = "90.5": must be an integer from 1 to 36500',
      ],
      [
        { retentionDays: "36501" },
        'ec2-backup-retention:retentionDays = "36501": must be an integer from 1 to 36500',
      ],
      [{ memorySize: "64" }, 'ec2-backup-retention:memorySize = "64": must be an integer from 128 to 10240'],
      [
        { timeoutSeconds: "901" },
        'ec2-backup-retention:timeoutSeconds = "901": must be an integer from 10 to 900',
      ],
      [
        { timeoutSeconds: "9" },
        'ec2-backup-retention:timeoutSeconds = "9": must be an integer from 10 to 900; below 10 no call could finish an attempt',
      ],
      [
        { logRetentionDays: "10" },
        'ec2-backup-retention:logRetentionDays = "10": must be one of 1, 3, 5, 7, 14, 30',
      ],
      [{ logRetentionDays: "0" }, 'ec2-backup-retention:logRetentionDays = "0": must be one of'],
      [
        { schedule: "rate(1 days)" },
        'ec2-backup-retention:schedule = "rate(1 days)": rate(1 days) must use the singular',
      ],
      [{ dryRun: "yes" }, 'ec2-backup-retention:dryRun = "yes": must be true or false'],
      [{ extraTags: '{"Retention":"x"}' }, "is written by the tagger itself"],
      [{ extraTags: '{"RetentionBatch":"x"}' }, "is written by the tagger itself"],
      [
        { recycleBinDays: "366" },
        'ec2-backup-retention:recycleBinDays = "366": must be an integer from 0 to 365; 0 turns the Recycle Bin rules off',
      ],
      [
        { expireNoticeDays: "-1" },
        'ec2-backup-retention:expireNoticeDays = "-1": must be an integer from 0 to 365',
      ],
      [{ adoptUnprovenTags: "yes" }, 'ec2-backup-retention:adoptUnprovenTags = "yes": must be true or false'],
      [{ sweepHours: "1" }, 'ec2-backup-retention:sweepHours = "1": must be an integer from 2 to 720'],
      [
        { maxDeletionsPerRun: "20001" },
        'ec2-backup-retention:maxDeletionsPerRun = "20001": must be an integer from 1 to 20000',
      ],
      [{ extraTags: '{"aws:createdBy":"me"}' }, 'must not start with "aws:"'],
      [{ extraTags: '{"Owner":7}' }, 'value of "Owner" must be a string'],
      [{ extraTags: "Owner=infra" }, 'ec2-backup-retention:extraTags = "Owner=infra": must be a JSON object'],
      [{ extraTags: `{"${"k".repeat(129)}":"v"}` }, "must be 1 to 128 characters"],
      [{ extraTags: `{"Owner":"${"v".repeat(257)}"}` }, "must be at most 256 characters"],
      [
        { namePrefix: "bad name" },
        'ec2-backup-retention:namePrefix = "bad name": must be 1 to 43 letters, digits, - or _',
      ],
      [{ namePrefix: "A".repeat(44) }, "stay within 64 characters"],
      [
        { retentionDay: "30" },
        'ec2-backup-retention:retentionDay = "30": unknown key; the known keys are retentionDays',
      ],
    ];
    for (const [raw, expected] of cases) {
      const errors = errorsOf(raw);
      expect(errors, JSON.stringify(raw)).to.have.length(1);
      expect(errors[0], JSON.stringify(raw)).to.include(expected);
    }
  });

  it("derives the missed-run window from rate() schedules, and needs no window with alarms off", () => {
    const hoursFor = (schedule: string) =>
      (parseConfig({ ...region, schedule }) as { config: { alarmMissingRunHours: number } }).config
        .alarmMissingRunHours;
    expect([
      hoursFor("rate(1 day)"),
      hoursFor("rate(12 hours)"),
      hoursFor("rate(5 minutes)"),
      hoursFor("rate(6 days)"),
    ]).to.deep.equal([25, 13, 2, 145]);
    expect(parseConfig({ ...region, schedule: "cron(0 2 * * ? *)", alarms: "false" }).ok).to.be.true;
  });

  it("refuses more extra tags than fit beside ours on a resource", () => {
    const tags = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`k${i}`, "v"]));
    expect(errorsOf({ extraTags: JSON.stringify(tags) })[0]).to.include("has 48 tags; at most 47");
  });

  it("bounds namePrefix by the longest name it becomes, which depends on the region", () => {
    expect(parseConfig({ "aws:region": "ap-southeast-4", namePrefix: "A".repeat(39) }).ok).to.be.true;
    const errors = (
      parseConfig({ "aws:region": "ap-southeast-4", namePrefix: "A".repeat(40) }) as { errors: string[] }
    ).errors;
    expect(errors[0]).to.include("must be 1 to 39 letters").and.include("LambdaRole-ap-southeast-4");
  });

  it("requires a region that looks like one", () => {
    expect(parseConfig({}).ok).to.be.false;
    expect((parseConfig({}) as { errors: string[] }).errors[0]).to.include(
      "aws:region = undefined: must be an AWS region",
    );
    expect((parseConfig({ "aws:region": "Virginia" }) as { errors: string[] }).errors[0]).to.include(
      'aws:region = "Virginia"',
    );
    for (const ok of ["us-east-1", "ap-southeast-4", "us-gov-west-1", "cn-north-1", "eusc-de-east-1"]) {
      expect(parseConfig({ "aws:region": ok }).ok, ok).to.be.true;
    }
  });

  it("checks aws:region against the same known-region list as regions, naming the closest", () => {
    const errors = (parseConfig({ "aws:region": "xx-fake-1" }) as { errors: string[] }).errors;
    expect(errors).to.have.length(1);
    expect(errors[0]).to.match(/^aws:region = "xx-fake-1": not a known AWS region; closest: /);
    const typo = (parseConfig({ "aws:region": "us-east-7" }) as { errors: string[] }).errors[0];
    expect(typo).to.match(/closest: us-east-1, us-east-2/);
    const inList = (parseConfig({ regions: '["eu-west-9"]' }) as { errors: string[] }).errors[0];
    expect(inList).to.match(/unknown region "eu-west-9": not a known AWS region; closest: eu-west-1/);
  });

  it("lists every problem in one message", () => {
    const errors = errorsOf({ retentionDays: "0", schedule: "daily", memorySize: "1" });
    expect(errors).to.have.length(3);
    const message = configErrorMessage(errors);
    expect(message.split("\n")[0]).to.equal("Invalid stack configuration (3 problems):");
    expect(message).to.include("retentionDays").and.include("schedule").and.include("memorySize");
  });
});
