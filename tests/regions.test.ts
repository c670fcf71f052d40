import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ACCOUNT, loadStack, registered, type StackOutputs } from "../local/pulumiMocks";

const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];

describe("several regions in one stack", () => {
  let outputs: StackOutputs;

  before(async () => {
    outputs = await loadStack({ regions: JSON.stringify(REGIONS) });
  });

  it("creates one explicit provider per region", () => {
    const providers = registered.filter((r) => r.type === "pulumi:providers:aws");
    expect(providers.map((p) => [p.name, p.inputs.region])).to.deep.equal(
      REGIONS.map((r) => [`aws-${r}`, r]),
    );
  });

  it("builds a complete, identical set of resources per region, each on its region's provider", async () => {
    const multi = [...registered];
    await loadStack({ "aws:region": "us-east-1" });
    const single = [...registered];
    registered.splice(0, registered.length, ...multi);
    for (const region of REGIONS) {
      const mine = registered.filter((r) => r.name.startsWith(`tagger-${region}`));
      expect(
        mine.map((r) => `${r.type} ${r.name.replace(`tagger-${region}`, "tagger")}`).sort(),
        region,
      ).to.deep.equal(single.map((r) => `${r.type} ${r.name}`).sort());
      for (const resource of mine.filter((r) => r.type.startsWith("aws:"))) {
        expect(resource.provider, `${resource.name}`).to.include(`::aws-${region}::`);
      }
    }
  });

  it("names the role per region, as the seed does, since IAM is global", () => {
    const roles = registered.filter((r) => r.type === "aws:iam/role:Role").map((r) => r.inputs.name);
    expect(roles).to.deep.equal(REGIONS.map((r) => `TagEC2BackupsLambdaRole-${r}`));
  });

  it("scopes each region's policy to that region and gives each dashboard its own name", () => {
    for (const region of REGIONS) {
      const policy = registered.find(
        (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `tagger-${region}-policy`,
      );
      const tagging = JSON.parse(policy?.inputs.policy).Statement.find(
        (s: { Sid: string }) => s.Sid === "TagBackups",
      );
      expect(tagging.Resource).to.deep.equal([
        `arn:aws:ec2:${region}::image/*`,
        `arn:aws:ec2:${region}::snapshot/*`,
      ]);
      const dashboard = registered.find((r) => r.name === `tagger-${region}-monitoring-dashboard`);
      expect(dashboard?.inputs.dashboardName).to.equal(`TagEC2Backups-${region}`);
    }
  });

  it("keys the outputs by region", () => {
    expect(Object.keys(outputs).sort()).to.deep.equal(["regions", "retentionDays", "schedule"]);
    const byRegion = outputs.regions as Record<string, Record<string, string>>;
    expect(Object.keys(byRegion)).to.deep.equal(REGIONS);
    expect(byRegion["eu-west-1"]).to.deep.include({
      functionName: "TagEC2Backups",
      functionArn: `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:TagEC2Backups`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/TagEC2BackupsLambdaRole-eu-west-1`,
      dashboardName: "TagEC2Backups-eu-west-1",
    });
  });

  it("refuses duplicate and unknown regions before registering anything", async () => {
    let error: Error | undefined;
    await loadStack({ regions: '["us-east-1","us-east-1","moon-1"]' }).catch((e: Error) => (error = e));
    expect(error?.message).to.include('unknown region "moon-1"');
    expect(error?.message).to.include("lists us-east-1 more than once");
    expect(registered).to.have.length(0);
  });
});

describe("a single-region stack after multi-region support", () => {
  it("registers exactly the resources it did before: same types, names and inputs, so nothing is replaced", async () => {
    await loadStack({ "aws:region": "us-east-1" });
    const before = JSON.parse(
      readFileSync(join(__dirname, "fixtures", "single-region-resources.json"), "utf8"),
    );
    // Inputs that change in place, never by replacement: the code, its environment, the
    // dashboard's body and the role's inline policy (each grew with a feature after the fixture).
    const updatable = ["code", "environment", "dashboardBody", "policy"];
    // Resources features added since: new ones are created beside the old, which stay as they are.
    const added = ["tagger-ledger", "tagger-ledger-policy"];
    const comparable = (resources: { type: string; name: string; inputs: Record<string, unknown> }[]) =>
      resources
        .filter((r) => !added.includes(r.name))
        .map((r) => ({
          type: r.type,
          name: r.name,
          inputs: Object.fromEntries(Object.entries(r.inputs).filter(([key]) => !updatable.includes(key))),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(comparable(registered)).to.deep.equal(comparable(before));
    expect(
      registered
        .map((r) => r.name)
        .filter((name) => added.includes(name))
        .sort(),
    ).to.deep.equal(added);
    expect(registered.filter((r) => r.type === "pulumi:providers:aws")).to.have.length(0);
  });
});
