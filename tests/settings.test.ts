import { expect } from "chai";
import { parseEnvironment } from "../handler/settings";

/** The least a valid environment holds. */
const OK = { RETENTION_DAYS: "9", METRICS_NAMESPACE: "X", LEDGER_TABLE: "L-ledger" };

describe("Lambda environment", () => {
  it("parses what the stack sets", () => {
    expect(
      parseEnvironment({
        RETENTION_DAYS: "30",
        EXTRA_TAGS: '{"Owner":"infra"}',
        DRY_RUN: "true",
        METRICS_NAMESPACE: "Ops/Backups",
        LEDGER_TABLE: "TagEC2Backups-ledger",
        NOTICE_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:TagEC2Backups-alarms",
        EXPIRE_NOTICE_DAYS: "3",
        ADOPT_UNPROVEN_TAGS: "true",
      }),
    ).to.deep.equal({
      retentionDays: 30,
      extraTags: { Owner: "infra" },
      dryRun: true,
      metricsNamespace: "Ops/Backups",
      includeTags: {},
      excludeTags: {},
      manageAmis: true,
      manageSnapshots: true,
      deleteOnFrom: "first-seen",
      expire: false,
      expireGraceDays: 1,
      maxDeletionsPerRun: 1000,
      sweepHours: 24,
      expireNoticeDays: 3,
      adoptUnprovenTags: true,
      ledgerTable: "TagEC2Backups-ledger",
      noticeTopicArn: "arn:aws:sns:us-east-1:123456789012:TagEC2Backups-alarms",
    });
  });

  it("defaults extra tags to none and dry run to off, and requires the metrics namespace", () => {
    expect(
      parseEnvironment({ RETENTION_DAYS: "90", METRICS_NAMESPACE: "X", LEDGER_TABLE: "L-ledger" }),
    ).to.deep.equal({
      retentionDays: 90,
      extraTags: {},
      dryRun: false,
      metricsNamespace: "X",
      includeTags: {},
      excludeTags: {},
      manageAmis: true,
      manageSnapshots: true,
      deleteOnFrom: "first-seen",
      expire: false,
      expireGraceDays: 1,
      maxDeletionsPerRun: 1000,
      sweepHours: 24,
      expireNoticeDays: 7,
      adoptUnprovenTags: false,
      ledgerTable: "L-ledger",
      noticeTopicArn: "",
    });
  });

  it("requires the ledger table, and a topic only in ARN form", () => {
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", METRICS_NAMESPACE: "X" })).to.throw(
      "LEDGER_TABLE=undefined: must name the ledger's DynamoDB table",
    );
    expect(() => parseEnvironment({ ...OK, NOTICE_TOPIC_ARN: "alarms" })).to.throw(
      'NOTICE_TOPIC_ARN="alarms": must be an SNS topic ARN',
    );
    expect(() => parseEnvironment({ ...OK, EXPIRE_NOTICE_DAYS: "400" })).to.throw(
      'EXPIRE_NOTICE_DAYS="400": must be an integer from 0 to 365',
    );
  });

  it("refuses what the stack refuses: both kinds switched off", () => {
    expect(() => parseEnvironment({ ...OK, MANAGE_AMIS: "false", MANAGE_SNAPSHOTS: "false" })).to.throw(
      'MANAGE_AMIS="false" and MANAGE_SNAPSHOTS="false": at least one kind must be managed',
    );
  });

  it("refuses a variable that looks like ours but is not, naming the closest known one", () => {
    expect(() => parseEnvironment({ ...OK, DRYRUN: "true" })).to.throw(
      'DRYRUN="true": not a setting of this function; did you mean DRY_RUN?',
    );
    expect(() => parseEnvironment({ ...OK, RETENTON_DAYS: "30" })).to.throw("did you mean RETENTION_DAYS?");
    expect(() => parseEnvironment({ ...OK, NOTICE_DAYS: "3" })).to.throw("did you mean EXPIRE_NOTICE_DAYS?");
    // Lambda's, Node's and the system's own variables are not ours to judge.
    expect(() =>
      parseEnvironment({
        ...OK,
        AWS_REGION: "us-east-1",
        LAMBDA_TASK_ROOT: "/var/task",
        NODE_PATH: "/opt",
        TZ: ":UTC",
        LANG: "en_US.UTF-8",
      }),
    ).not.to.throw();
  });

  it("reads the sweep period, 24 hours by default, and refuses one outside 2 to 720 hours", () => {
    expect(parseEnvironment({ ...OK, SWEEP_HOURS: "72" })).to.deep.include({ sweepHours: 72 });
    for (const bad of ["1", "721", "12h", ""]) {
      expect(() => parseEnvironment({ ...OK, SWEEP_HOURS: bad }), bad).to.throw(
        `SWEEP_HOURS=${JSON.stringify(bad)}: must be an integer from 2 to 720`,
      );
    }
  });

  it("parses the expiry switches, off by default, and refuses out-of-range guards", () => {
    expect(
      parseEnvironment({
        ...OK,
        EXPIRE: "true",
        EXPIRE_GRACE_DAYS: "0",
        MAX_DELETIONS_PER_RUN: "5",
      }),
    ).to.deep.include({ expire: true, expireGraceDays: 0, maxDeletionsPerRun: 5 });
    expect(() => parseEnvironment({ ...OK, MAX_DELETIONS_PER_RUN: "0" })).to.throw(
      'MAX_DELETIONS_PER_RUN="0": must be an integer from 1 to 20000',
    );
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", METRICS_NAMESPACE: "X", EXPIRE: "yes" })).to.throw(
      'EXPIRE="yes"',
    );
  });

  it("parses the selection rules and the anchor", () => {
    expect(
      parseEnvironment({
        ...OK,
        INCLUDE_TAGS: '{"Backup":"*"}',
        EXCLUDE_TAGS: '{"Env":"dev"}',
        MANAGE_AMIS: "false",
        DELETE_ON_FROM: "creation",
      }),
    ).to.deep.include({
      includeTags: { Backup: "*" },
      excludeTags: { Env: "dev" },
      manageAmis: false,
      manageSnapshots: true,
      deleteOnFrom: "creation",
    });
    expect(() =>
      parseEnvironment({
        RETENTION_DAYS: "9",
        METRICS_NAMESPACE: "X",
        DELETE_ON_FROM: "birth",
        EXCLUDE_TAGS: '{"a":1}',
      }),
    ).to.throw(/DELETE_ON_FROM="birth": must be one of first-seen, creation.*|EXCLUDE_TAGS/);
  });

  it("names the variable, its value and what is allowed", () => {
    expect(() => parseEnvironment({ RETENTION_DAYS: "ninety", METRICS_NAMESPACE: "X" })).to.throw(
      'Invalid environment: RETENTION_DAYS="ninety": must be an integer from 1 to 36500',
    );
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", METRICS_NAMESPACE: "AWS/Lambda" })).to.throw(
      'Invalid environment: METRICS_NAMESPACE="AWS/Lambda": must not start with "AWS/" (reserved by AWS)',
    );
    expect(() => parseEnvironment({})).to.throw(/RETENTION_DAYS=undefined: must be an integer/);
    expect(() => parseEnvironment({ RETENTION_DAYS: "36501" })).to.throw(/RETENTION_DAYS="36501"/);
    expect(() => parseEnvironment({ RETENTION_DAYS: "1.5" })).to.throw(/RETENTION_DAYS="1.5"/);
  });

  it("reports every bad variable at once", () => {
    try {
      parseEnvironment({ RETENTION_DAYS: "0", EXTRA_TAGS: "[1]", DRY_RUN: "yes" });
      expect.fail("expected an error");
    } catch (error) {
      const message = (error as Error).message;
      expect(message).to.include('RETENTION_DAYS="0"');
      expect(message).to.include('EXTRA_TAGS="[1]": must be a JSON object');
      expect(message).to.include('DRY_RUN="yes": must be "true" or "false"');
      expect((error as Error).name).to.equal("EnvironmentError");
    }
  });

  it("refuses extra tags that would touch our keys or AWS's", () => {
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", EXTRA_TAGS: '{"DeleteOn":"never"}' })).to.throw(
      /"DeleteOn" is written by the tagger/,
    );
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", EXTRA_TAGS: '{"aws:x":"y"}' })).to.throw(
      /must not start with "aws:"/,
    );
    expect(() => parseEnvironment({ RETENTION_DAYS: "9", EXTRA_TAGS: "{not json" })).to.throw(
      /EXTRA_TAGS="\{not json"/,
    );
  });
});
