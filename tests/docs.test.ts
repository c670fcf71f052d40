// The reference in docs/ says what the code does: every key with its default, every alarm and
// metric, the IAM policies as the builders make them, and links that lead somewhere.
import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { METRIC_NAMES } from "../handler/metrics";
import { DISPATCHER_METRICS, WORKER_METRICS } from "../handler/organizationMetrics";
import { buildAlarms } from "../infra/alarms";
import { ATTEMPT_TIMEOUT_MS } from "../handler/awsClients";
import { DEFAULTS, MIN_TIMEOUT_SECONDS, PROJECT_KEYS, parseConfig, type ProjectKey } from "../infra/config";
import { buildLedgerPolicy, buildTaggerPolicy } from "../infra/iamPolicy";
import { buildMemberRoleTemplate } from "../infra/memberRoleTemplate";
import { buildOrganizationAlarms } from "../infra/organizationAlarms";
import { ORGANIZATION_KEYS } from "../infra/organizationConfig";
import { buildDispatcherPolicy, buildWorkerPolicy } from "../infra/organizationPolicies";

const root = join(__dirname, "..");
const docsDir = join(root, "docs");
const read = (path: string) => readFileSync(path, "utf8");
const doc = (name: string) => read(join(docsDir, name));

/** The text outside fenced code blocks, so `# comments` in shell blocks are not headings. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  return new Set(
    [...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    ),
  );
}

/** The text from a `## heading` to the next one. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  expect(start, heading).to.be.greaterThan(-1);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

const jsonBlocks = (text: string): unknown[] =>
  [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]) as unknown);

/** A default as the table shows it: JSON for lists and maps, `""` for the empty string. */
function shown(value: unknown): string {
  if (typeof value === "object") {
    return JSON.stringify(value);
  }
  return value === "" ? '""' : String(value);
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("docs", () => {
  describe("configuration.md", () => {
    const table = doc("configuration.md");

    it("lists every key of Pulumi.yaml with the program's default", () => {
      const declared = Object.keys(
        (parse(read(join(root, "Pulumi.yaml"))) as { config: Record<string, unknown> }).config,
      );
      expect([...declared].sort()).to.deep.equal([...PROJECT_KEYS].sort());
      for (const key of declared) {
        const value = shown(DEFAULTS[key as ProjectKey]);
        expect(table, key).to.match(
          new RegExp(`^\\| \`${escape(key)}\` +\\| \`${escape(value)}\` +\\|`, "m"),
        );
      }
    });

    it("lists aws:region, which every stack sets", () => {
      expect(table).to.match(/^\| `aws:region` +\|/m);
    });

    it("states the limits of issue 11: the least timeout and why, and metrics at every log level", () => {
      const row = (key: string) => table.split("\n").find((line) => line.startsWith(`| \`${key}\` `)) ?? "";
      const refused = parseConfig({
        "aws:region": "us-east-1",
        timeoutSeconds: String(MIN_TIMEOUT_SECONDS - 1),
      });
      expect(refused.ok).to.be.false;
      expect(parseConfig({ "aws:region": "us-east-1", timeoutSeconds: String(MIN_TIMEOUT_SECONDS) }).ok).to.be
        .true;
      expect(row("timeoutSeconds")).to.include(
        `integer ${MIN_TIMEOUT_SECONDS} to 900 (below ${MIN_TIMEOUT_SECONDS}, no call could finish one ${ATTEMPT_TIMEOUT_MS / 1000} s attempt`,
      );
      expect(row("logLevel")).to.include("summary line and its metrics line are written at this level");
    });
  });

  describe("operations.md", () => {
    const operations = doc("operations.md");

    it("names every alarm a single-account stack creates", () => {
      const alarms = buildAlarms({
        namePrefix: DEFAULTS.namePrefix,
        functionName: DEFAULTS.namePrefix,
        metricsNamespace: DEFAULTS.namePrefix,
        durationSeconds: DEFAULTS.alarmDurationSeconds,
        missingRunHours: 2,
      });
      expect(alarms).to.have.length(8);
      for (const { name } of alarms) {
        const documented = `\`<prefix>${name.slice(DEFAULTS.namePrefix.length)}\``;
        expect(section(operations, "Alarms"), name).to.include(documented);
      }
    });

    it("names every alarm of organization mode", () => {
      const alarms = buildOrganizationAlarms({
        namePrefix: DEFAULTS.namePrefix,
        dispatcherFunctionName: `${DEFAULTS.namePrefix}-org-dispatcher`,
        workerFunctionName: `${DEFAULTS.namePrefix}-org-worker`,
        metricsNamespace: DEFAULTS.namePrefix,
        targetQueueName: `${DEFAULTS.namePrefix}-org-targets`,
        deadLetterQueueName: `${DEFAULTS.namePrefix}-org-targets-dlq`,
        missingRunHours: 2,
      });
      expect(alarms).to.have.length(8);
      for (const { name } of alarms) {
        const documented = `\`<prefix>${name.slice(DEFAULTS.namePrefix.length)}\``;
        expect(section(operations, "Organization mode"), name).to.include(documented);
      }
    });

    it("names every metric the functions write", () => {
      for (const metric of METRIC_NAMES) {
        expect(section(operations, "Metrics"), metric).to.include(`\`${metric}\``);
      }
      for (const metric of [...WORKER_METRICS, ...DISPATCHER_METRICS]) {
        expect(section(operations, "Organization mode"), metric).to.include(`\`${metric}\``);
      }
    });
  });

  describe("iam.md", () => {
    const iam = doc("iam.md");
    const account = "111122223333";
    const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${account}:${resource}`;
    const organizationId = "o-a1b2c3d4e5";
    const tagKeys = ["Retention", "DeleteOn", "RetentionBatch"];

    it("shows the function role's policy for us-east-1 with the default config", () => {
      expect(jsonBlocks(section(iam, "Function role"))).to.deep.equal([
        buildTaggerPolicy({
          partition: "aws",
          region: "us-east-1",
          logGroupArn: arn("logs", "log-group:/aws/lambda/TagEC2Backups"),
          tagKeys,
          failureQueueArn: arn("sqs", "TagEC2Backups-failed-runs"),
          ledgerTableArn: arn("dynamodb", "table/TagEC2Backups-ledger"),
        }),
      ]);
    });

    it("shows the ledger's resource policy for the same stack", () => {
      expect(jsonBlocks(section(iam, "Ledger table"))).to.deep.equal([
        buildLedgerPolicy({
          tableArn: arn("dynamodb", "table/TagEC2Backups-ledger"),
          writerRoleArn: `arn:aws:iam::${account}:role/TagEC2BackupsLambdaRole-us-east-1`,
        }),
      ]);
    });

    it("shows the organization dispatcher's policy", () => {
      expect(jsonBlocks(section(iam, "Organization mode: dispatcher role"))).to.deep.equal([
        buildDispatcherPolicy({
          logGroupArn: arn("logs", "log-group:/aws/lambda/TagEC2Backups-org-dispatcher"),
          targetQueueArn: arn("sqs", "TagEC2Backups-org-targets"),
        }),
      ]);
    });

    it("shows the organization worker's policy, expiry off", () => {
      expect(jsonBlocks(section(iam, "Organization mode: worker role"))).to.deep.equal([
        buildWorkerPolicy({
          partition: "aws",
          logGroupArn: arn("logs", "log-group:/aws/lambda/TagEC2Backups-org-worker"),
          targetQueueArn: arn("sqs", "TagEC2Backups-org-targets"),
          ledgerTableArn: arn("dynamodb", "table/TagEC2Backups-org-ledger"),
          memberRoleName: DEFAULTS.memberRoleName,
          organizationId,
        }),
      ]);
    });

    it("shows the member role's trust and permissions as the StackSet template builds them", () => {
      const template = buildMemberRoleTemplate({
        roleName: DEFAULTS.memberRoleName,
        workerRoleArn: `arn:aws:iam::${account}:role/TagEC2BackupsOrgWorker-us-east-1`,
        workerRoleId: "AROAEXAMPLEWORKERID",
        organizationId,
        regions: ["us-east-1", "eu-west-1"],
        tagKeys,
        expire: true,
        retentionValue: "90days",
      }) as {
        Resources: {
          MemberRole: {
            Properties: { AssumeRolePolicyDocument: unknown; Policies: { PolicyDocument: unknown }[] };
          };
        };
      };
      const role = template.Resources.MemberRole.Properties;
      expect(jsonBlocks(section(iam, "Organization mode: member role"))).to.deep.equal([
        role.AssumeRolePolicyDocument,
        role.Policies[0].PolicyDocument,
      ]);
    });
  });

  describe("organization.md", () => {
    it("names every key of the mode", () => {
      const organization = doc("organization.md");
      for (const key of ORGANIZATION_KEYS) {
        expect(organization, key).to.include(`\`${key}\``);
      }
    });
  });

  describe("links", () => {
    const files = [
      join(root, "README.md"),
      ...readdirSync(docsDir)
        .filter((name) => name.endsWith(".md"))
        .map((name) => join(docsDir, name)),
    ];

    for (const file of files) {
      it(`every relative link in ${file.slice(root.length + 1)} resolves, anchors included`, () => {
        const text = read(file);
        const links = [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
        for (const link of links.filter((l) => !/^[a-z]+:/.test(l))) {
          const [path, anchor] = link.split("#");
          const target = path === "" ? file : resolve(dirname(file), path);
          expect(existsSync(target), `${link}: no such file`).to.be.true;
          if (anchor !== undefined && target.endsWith(".md")) {
            expect([...anchors(read(target))], `${link}: no such heading`).to.include(anchor);
          }
        }
      });
    }
  });
});
