import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_KEYS } from "../infra/config";
import { buildTaggerPolicy } from "../infra/iamPolicy";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, heading).to.be.greaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe("README", () => {
  it("shows the exact IAM policy the stack builds", () => {
    const block = /```json\n([\s\S]*?)```/.exec(section("IAM policy"))?.[1] ?? "";
    expect(JSON.parse(block)).to.deep.equal(
      buildTaggerPolicy({
        partition: "aws",
        region: "us-east-1",
        logGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/TagEC2Backups",
        tagKeys: ["Retention", "DeleteOn", "RetentionBatch"],
        failureQueueArn: "arn:aws:sqs:us-east-1:111122223333:TagEC2Backups-failed-runs",
        ledgerTableArn: "arn:aws:dynamodb:us-east-1:111122223333:table/TagEC2Backups-ledger",
      }),
    );
  });

  it("documents every config key", () => {
    const table = section("Configuration");
    for (const key of ["aws:region", ...PROJECT_KEYS]) {
      expect(table, key).to.match(new RegExp(`\\| \`${key}\` +\\|`));
    }
  });

  it("opens with how to try it locally: npm ci, the demo, npm test", () => {
    const firstSection = readme.slice(readme.indexOf("\n## ")).split("\n")[1];
    expect(firstSection).to.equal("## Try it locally");
    const tryIt = section("Try it locally");
    for (const command of ["npm ci", "npm run demo", "npm test", "npm run synth", "npm run tag"]) {
      expect(tryIt, command).to.include(command);
    }
  });
});
