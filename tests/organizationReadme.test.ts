// The README's organization mode section says what the code builds.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WORKER_METRICS, DISPATCHER_METRICS } from "../handler/organizationMetrics";
import { buildMemberRoleTemplate } from "../infra/memberRoleTemplate";
import { buildOrganizationAlarms } from "../infra/organizationAlarms";
import { ORGANIZATION_KEYS } from "../infra/organizationConfig";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
const start = readme.indexOf("\n## Organization mode\n");
const section = readme.slice(start, readme.indexOf("\n## ", start + 1));

describe("README: organization mode", () => {
  it("comes right after Deploy and before Configuration", () => {
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    const at = headings.indexOf("Organization mode");
    expect(at).to.be.greaterThan(-1);
    expect(headings[at + 1]).to.equal("Configuration");
    expect(headings.slice(0, at)).to.include("Deploy");
  });

  it("shows the member role's trust statement as the template builds it", () => {
    const block = /```json\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const template = buildMemberRoleTemplate({
      roleName: "r",
      workerRoleArn: "arn:aws:iam::<hub account>:role/<prefix>OrgWorker-<hub region>",
      workerRoleId: "AROAEXAMPLEWORKERID",
      organizationId: "<organization ID>",
      regions: ["us-east-1"],
      tagKeys: ["Retention"],
      expire: false,
      retentionValue: "90days",
    }) as {
      Resources: { MemberRole: { Properties: { AssumeRolePolicyDocument: { Statement: unknown[] } } } };
    };
    expect(JSON.parse(block)).to.deep.equal(
      template.Resources.MemberRole.Properties.AssumeRolePolicyDocument.Statement[0],
    );
  });

  it("names every alarm, metric and key of the mode", () => {
    const alarms = buildOrganizationAlarms({
      namePrefix: "<prefix>",
      dispatcherFunctionName: "d",
      workerFunctionName: "w",
      metricsNamespace: "n",
      targetQueueName: "q",
      deadLetterQueueName: "dlq",
      missingRunHours: 25,
    });
    expect(alarms).to.have.length(8);
    for (const { name } of alarms) {
      // Listed as `<prefix>-OrgTargetsFailed`, then by suffix: `-OrgTargetsIncomplete`, ...
      expect(section, name).to.include(`${name.slice("<prefix>".length)}\``);
    }
    for (const metric of [...WORKER_METRICS, ...DISPATCHER_METRICS]) {
      expect(section, metric).to.include(`\`${metric}\``);
    }
    for (const key of ORGANIZATION_KEYS) {
      expect(section, key).to.include(`\`${key}\``);
    }
  });
});
