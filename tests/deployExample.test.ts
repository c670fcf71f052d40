// The README's Deploy section: its worked example (an account reached through an assumed role, with
// default tags, in two regions) is a stack file that deploys as it says, and it shows both ways of
// covering several regions and how to move between them.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadStack, registered, type StackOutputs } from "../local/pulumiMocks";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
const deploy = readme.slice(
  readme.indexOf("\n## Deploy\n"),
  readme.indexOf("\n## ", readme.indexOf("\n## Deploy\n") + 1),
);
const PROVIDER = "pulumi:providers:aws";

/** The stack file in the Deploy section, as the Pulumi CLI hands it to the program: objects as JSON text. */
function exampleConfig(): Record<string, string> {
  const block = /```yaml\n([\s\S]*?)```/.exec(deploy);
  expect(block, "a yaml block in Deploy").to.not.equal(null);
  const { config } = parse(block![1]) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}

describe("README Deploy", () => {
  it("shows both ways, one stack per region and one stack with regions", () => {
    expect(deploy).to.include("One stack per region");
    expect(deploy).to.include("One stack with `regions`");
  });

  it("shows how to move a region between the two ways, both directions, with pulumi state move", () => {
    const moves = deploy.match(/pulumi state move --source (\S+) --dest (\S+)/g) ?? [];
    expect(moves).to.deep.equal([
      "pulumi state move --source prod-eu-west-1 --dest prod",
      "pulumi state move --source prod --dest prod-eu-west-1",
    ]);
    // Each move names the component of region eu-west-1 in its source stack.
    expect(deploy).to.include(
      "'urn:pulumi:prod-eu-west-1::ec2-backup-retention::ec2-backup-retention:index:BackupTagger::tagger-eu-west-1'",
    );
    expect(deploy).to.include(
      "'urn:pulumi:prod::ec2-backup-retention::ec2-backup-retention:index:BackupTagger::tagger-eu-west-1'",
    );
  });

  describe("its worked example, an assumed role with default tags", () => {
    let config: Record<string, string>;
    let outputs: StackOutputs;
    before(async () => {
      config = exampleConfig();
      outputs = await loadStack(config);
    });

    it("reaches the account through an assumed role, with default tags and an account guard", () => {
      expect(JSON.parse(config["aws:assumeRoles"])[0].roleArn).to.match(/^arn:aws:iam::\d{12}:role\//);
      expect(JSON.parse(config["aws:defaultTags"])).to.have.nested.property("tags.Team");
      expect(JSON.parse(config["aws:allowedAccountIds"])).to.deep.equal(["111122223333"]);
    });

    it("deploys every listed region, the other region's provider carrying every aws: setting", () => {
      expect(Object.keys(outputs.regions as object)).to.deep.equal(["us-east-1", "eu-west-1"]);
      const providers = registered.filter((r) => r.type === PROVIDER);
      expect(providers.map((p) => p.name)).to.deep.equal(["aws-eu-west-1"]);
      expect(providers[0].inputs).to.deep.equal({
        region: "eu-west-1",
        profile: config["aws:profile"],
        assumeRoles: config["aws:assumeRoles"],
        defaultTags: config["aws:defaultTags"],
        allowedAccountIds: config["aws:allowedAccountIds"],
      });
      // The stack's own region is on the default provider, which the engine builds from the same settings.
      const east = registered.filter(
        (r) => r.name.startsWith("tagger-us-east-1") && r.type.startsWith("aws:"),
      );
      expect(east.length).to.be.greaterThan(10);
      expect(east.filter((r) => r.provider)).to.deep.equal([]);
    });

    it("sends eu-west-1's alarms to the topic given for it", () => {
      const actions = registered
        .filter(
          (r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name.startsWith("tagger-eu-west-1"),
        )
        .flatMap((r) => r.inputs.alarmActions);
      expect(actions.length).to.be.greaterThan(0);
      expect(new Set(actions)).to.deep.equal(new Set(["arn:aws:sns:eu-west-1:111122223333:ops"]));
    });
  });
});
