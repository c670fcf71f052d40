import * as aws from "@pulumi/aws";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  ACCOUNT,
  loadStack,
  registered,
  registrations,
  type Registered,
  type StackOutputs,
} from "../local/pulumiMocks";

const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const PROVIDER = "pulumi:providers:aws";

/** Settings a stack reaching its account through an assumed role with default tags would carry. */
const ACCOUNT_SETTINGS = {
  "aws:profile": "platform-admin",
  "aws:assumeRoles": JSON.stringify([
    { roleArn: "arn:aws:iam::111122223333:role/backup-deployer", sessionName: "pulumi" },
  ]),
  "aws:defaultTags": JSON.stringify({ tags: { Team: "platform", CostCenter: "ops" } }),
  "aws:allowedAccountIds": JSON.stringify(["111122223333"]),
  "aws:skipMetadataApiCheck": "false",
};

/** A region's resources (providers aside) as URN and physical name. */
function regionResources(region: string): string[] {
  const physical = new Map(
    registered.map((r) => [`${r.type}::${r.name}`, r.inputs.name ?? r.inputs.dashboardName]),
  );
  return registrations
    .filter((r) => r.type !== PROVIDER && r.name.startsWith(`tagger-${region}`))
    .map((r) => `${r.urn} => ${physical.get(`${r.type}::${r.name}`) ?? "-"}`)
    .sort();
}

describe("several regions in one stack", () => {
  let outputs: StackOutputs;

  before(async () => {
    outputs = await loadStack({
      "aws:region": "us-east-1",
      regions: JSON.stringify(REGIONS),
      ...ACCOUNT_SETTINGS,
    });
  });

  it("gives every other region an explicit provider carrying every aws: setting of the stack, only the region replaced", () => {
    const providers = registered.filter((r) => r.type === PROVIDER);
    expect(providers.map((p) => p.name)).to.deep.equal(["aws-eu-west-1", "aws-ap-southeast-2"]);
    for (const provider of providers) {
      const region = provider.name.slice("aws-".length);
      expect(provider.inputs).to.deep.equal({
        profile: "platform-admin",
        assumeRoles: ACCOUNT_SETTINGS["aws:assumeRoles"],
        defaultTags: ACCOUNT_SETTINGS["aws:defaultTags"],
        allowedAccountIds: ACCOUNT_SETTINGS["aws:allowedAccountIds"],
        skipMetadataApiCheck: "false",
        region,
      });
    }
  });

  it("serves the stack's own aws:region with the default provider, which reads the same settings", () => {
    const primary = registered.filter(
      (r) => r.name.startsWith("tagger-us-east-1") && r.type.startsWith("aws:"),
    );
    expect(primary.length).to.be.greaterThan(10);
    expect(primary.filter((r) => r.provider)).to.deep.equal([]);
  });

  it("builds a complete, identical set of resources per region, each on its region's provider", () => {
    const shape = (region: string) =>
      registered
        .filter((r) => r.name.startsWith(`tagger-${region}`))
        .map((r) => `${r.type} ${r.name.replace(`tagger-${region}`, "tagger-R")}`)
        .sort();
    for (const region of REGIONS.slice(1)) {
      expect(shape(region), region).to.deep.equal(shape("us-east-1"));
      for (const resource of registered.filter(
        (r) => r.name.startsWith(`tagger-${region}`) && r.type.startsWith("aws:"),
      )) {
        expect(resource.provider, resource.name).to.include(`::aws-${region}::`);
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

  it("gives every region an explicit provider when the stack has no aws:region", async () => {
    await loadStack({ regions: JSON.stringify(REGIONS), ...ACCOUNT_SETTINGS });
    const providers = registered.filter((r) => r.type === PROVIDER);
    expect(providers.map((p) => p.inputs.region)).to.deep.equal(REGIONS);
    expect(providers.every((p) => p.inputs.profile === "platform-admin")).to.be.true;
  });

  it("refuses duplicate and unknown regions before registering anything", async () => {
    let error: Error | undefined;
    await loadStack({ regions: '["us-east-1","us-east-1","moon-1"]' }).catch((e: Error) => (error = e));
    expect(error?.message).to.include('unknown region "moon-1"');
    expect(error?.message).to.include("lists us-east-1 more than once");
    expect(registered).to.have.length(0);
  });
});

describe("explicit providers as aws.Provider makes them", () => {
  it("sends JSON-valued settings byte for byte as the generated aws.Provider sends the parsed objects", async () => {
    // A stack file's YAML objects reach the program as JSON text, spaced as the CLI likes.
    const spaced = {
      "aws:assumeRoles":
        '[ { "roleArn": "arn:aws:iam::111122223333:role/backup-deployer", "sessionName": "pulumi" } ]',
      "aws:defaultTags": '{ "tags": { "Team": "platform", "CostCenter": "ops" } }',
      "aws:allowedAccountIds": '[ "111122223333" ]',
    };
    await loadStack({ regions: '["eu-west-1"]', "aws:profile": "platform-admin", ...spaced });
    const ours = registered.find((r) => r.type === PROVIDER && r.name === "aws-eu-west-1");
    // The reference: the provider class @pulumi/aws generates, given the parsed values.
    new aws.Provider("reference", {
      region: "eu-west-1",
      profile: "platform-admin",
      assumeRoles: JSON.parse(spaced["aws:assumeRoles"]),
      defaultTags: JSON.parse(spaced["aws:defaultTags"]),
      allowedAccountIds: JSON.parse(spaced["aws:allowedAccountIds"]),
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reference = registered.find((r) => r.type === PROVIDER && r.name === "reference");
    expect(reference, "reference provider").to.not.equal(undefined);
    for (const key of ["region", "profile", "assumeRoles", "defaultTags", "allowedAccountIds"]) {
      expect(ours?.inputs[key], key).to.equal(reference?.inputs[key]);
    }
    expect(JSON.parse(ours?.inputs.assumeRoles)).to.deep.equal([
      { roleArn: "arn:aws:iam::111122223333:role/backup-deployer", sessionName: "pulumi" },
    ]);
    expect(JSON.parse(ours?.inputs.defaultTags)).to.deep.equal({
      tags: { Team: "platform", CostCenter: "ops" },
    });
  });

  it("gives region R's explicit provider the same URN and inputs in regions [R] and [Q, R], so pulumi state move can carry it", async function () {
    this.timeout(240_000);
    const provider = async (config: Record<string, string>) => {
      await loadStack({ ...config, ...ACCOUNT_SETTINGS });
      const urn = registrations.find((r) => r.type === PROVIDER && r.name === "aws-eu-west-1")?.urn;
      const inputs = registered.find((r) => r.type === PROVIDER && r.name === "aws-eu-west-1")?.inputs;
      expect(urn, JSON.stringify(config)).to.be.a("string");
      return { urn, inputs };
    };
    const alone = await provider({ regions: '["eu-west-1"]' });
    const merged = await provider({ "aws:region": "us-east-1", regions: '["us-east-1","eu-west-1"]' });
    expect(merged).to.deep.equal(alone);
  });
});

describe("one naming scheme for one region and many", () => {
  it("gives region R the same URNs and physical names with aws:region R alone, regions [R], and regions [R, S]", async () => {
    const seen: string[][] = [];
    const configs: Record<string, string>[] = [
      { "aws:region": "eu-west-1" },
      { regions: '["eu-west-1"]' },
      { "aws:region": "eu-west-1", regions: '["eu-west-1","ap-southeast-2"]' },
      { regions: '["ap-southeast-2","eu-west-1"]' },
    ];
    for (const config of configs) {
      await loadStack(config);
      seen.push(regionResources("eu-west-1"));
    }
    expect(seen[0].length).to.be.greaterThan(20);
    for (const other of seen.slice(1)) {
      expect(other).to.deep.equal(seen[0]);
    }
  });

  it("aliases the stack's own region to the names stacks used before, covering every resource they deployed", async () => {
    await loadStack({ "aws:region": "us-east-1" });
    const component = registrations.find((r) => r.name === "tagger-us-east-1");
    expect(component?.aliases).to.have.length(1);
    expect(component?.aliases[0]).to.deep.include({ name: "tagger", type: "", stack: "", project: "" });
    // Pulumi gives a child the parent's alias with its name prefix replaced (sdk resource.ts
    // inheritedChildAlias): so the new names, thus aliased, must be exactly the old ones.
    const aliased = registrations
      .filter((r) => r.name.startsWith("tagger-us-east-1"))
      .map((r) => `${r.type} ${r.name.replace(/^tagger-us-east-1/, "tagger")}`);
    const before = JSON.parse(
      readFileSync(join(__dirname, "fixtures", "single-region-resources.json"), "utf8"),
    ) as {
      type: string;
      name: string;
    }[];
    expect(aliased).to.include.members(before.map((r) => `${r.type} ${r.name}`));
    // Other regions never had other names: no alias to collide with.
    await loadStack({ "aws:region": "us-east-1", regions: '["us-east-1","eu-west-1"]' });
    expect(registrations.find((r) => r.name === "tagger-eu-west-1")?.aliases).to.deep.equal([]);
  });

  it("keeps a single-region stack's resources and inputs: nothing replaced but the renamed dashboard", async () => {
    await loadStack({ "aws:region": "us-east-1" });
    const before = JSON.parse(
      readFileSync(join(__dirname, "fixtures", "single-region-resources.json"), "utf8"),
    );
    // Inputs that change in place, never by replacement: the code, its environment, the dashboard's
    // body, the role's inline policy and the function's memory and layers (each changed with a feature
    // after the fixture; Lambda updates memory and layers in place). The
    // dashboard's name now carries the region (dashboards are account-wide), which replaces it.
    const updatable = [
      "code",
      "environment",
      "dashboardBody",
      "policy",
      "dashboardName",
      "layers",
      "memorySize",
      // The sweep (issue 14): an hourly default schedule, its missed-run window, and IncompleteRun
      // watching full passes instead of single runs; all updated in place.
      "scheduleExpression",
      "evaluationPeriods",
      "datapointsToAlarm",
      "metricName",
      "alarmDescription",
    ];
    // Resources features added since: new ones are created beside the old, which stay as they are.
    const added = [
      "tagger-ledger",
      "tagger-ledger-policy",
      "tagger-sdk-layer",
      "tagger-monitoring-alarm-deletion-backlog",
      "tagger-monitoring-alarm-filter-check",
    ];
    // The mocks derive IDs from logical names; in AWS an ID is the physical name, which stays.
    const comparable = (resources: Pick<Registered, "type" | "name" | "inputs">[]) =>
      (JSON.parse(JSON.stringify(resources).replace(/tagger-us-east-1/g, "tagger")) as typeof resources)
        .filter((r) => !added.includes(r.name))
        .map((r) => ({
          type: r.type,
          name: r.name,
          inputs: Object.fromEntries(Object.entries(r.inputs).filter(([key]) => !updatable.includes(key))),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    expect(comparable(registered)).to.deep.equal(comparable(before));
    expect(registered.filter((r) => r.type === PROVIDER)).to.have.length(0);
  });
});

describe("account-global names unique per region", () => {
  // Resource types whose names are account-wide: IAM, and CloudWatch dashboards. Everything else
  // the stack creates is regional (an inline role policy's name is scoped to its role).
  const GLOBAL = ["aws:iam/role:Role", "aws:iam/policy:Policy", "aws:cloudwatch/dashboard:Dashboard"];
  const REGIONAL = [
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/eventTarget:EventTarget",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:dynamodb/resourcePolicy:ResourcePolicy",
    "aws:dynamodb/table:Table",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:lambda/function:Function",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:lambda/permission:Permission",
    "aws:lambda/layerVersion:LayerVersion",
    "aws:rbin/rule:Rule",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
    "aws:sqs/queuePolicy:QueuePolicy",
  ];

  it("lets two default stacks in two regions of one account share no account-global physical name", async () => {
    const globalNames = async (region: string) => {
      await loadStack({ "aws:region": region, expire: "true" });
      const types = registered.filter((r) => r.type.startsWith("aws:")).map((r) => r.type);
      // Every type the stack creates is classified, so a new global one cannot slip past this test.
      expect(
        types.filter((t) => !GLOBAL.includes(t) && !REGIONAL.includes(t)),
        region,
      ).to.deep.equal([]);
      return registered
        .filter((r) => GLOBAL.includes(r.type))
        .map((r) => `${r.type} ${r.inputs.name ?? r.inputs.dashboardName}`);
    };
    const east = await globalNames("us-east-1");
    const west = await globalNames("eu-west-1");
    expect(east.length).to.equal(2);
    expect(east.filter((name) => west.includes(name))).to.deep.equal([]);
  });
});

describe("alarm topics per region", () => {
  const topic = (region: string) => `arn:aws:sns:${region}:111122223333:ops-alerts`;

  it("sends each region's alarms to the topic given for it, and creates one where none is given", async () => {
    await loadStack({
      "aws:region": "us-east-1",
      regions: '["us-east-1","eu-west-1"]',
      alarmTopicArns: JSON.stringify({ "eu-west-1": topic("eu-west-1") }),
    });
    const actions = (region: string) =>
      new Set(
        registered
          .filter(
            (r) =>
              r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name.startsWith(`tagger-${region}`),
          )
          .flatMap((r) => r.inputs.alarmActions),
      );
    expect([...actions("eu-west-1")]).to.deep.equal([topic("eu-west-1")]);
    expect([...actions("us-east-1")]).to.deep.equal([
      `arn:aws:sns:us-east-1:${ACCOUNT}:TagEC2Backups-alarms`,
    ]);
    expect(registered.filter((r) => r.type === "aws:sns/topic:Topic").map((r) => r.name)).to.deep.equal([
      "tagger-us-east-1-monitoring-alarm-topic",
    ]);
  });

  it("refuses one topic for several regions, a topic in another region, and a map that does not fit, naming the keys", async () => {
    const errorOf = async (config: Record<string, string>) => {
      let error: Error | undefined;
      await loadStack(config).catch((e: Error) => (error = e));
      expect(registered, JSON.stringify(config)).to.have.length(0);
      return error?.message ?? "";
    };
    expect(
      await errorOf({ regions: '["us-east-1","eu-west-1"]', alarmTopicArn: topic("us-east-1") }),
    ).to.include(
      'alarmTopicArn = "arn:aws:sns:us-east-1:111122223333:ops-alerts": one topic cannot serve the alarms of us-east-1, eu-west-1',
    );
    expect(await errorOf({ "aws:region": "eu-west-1", alarmTopicArn: topic("us-east-1") })).to.include(
      "is in us-east-1, but the alarms are in eu-west-1",
    );
    expect(
      await errorOf({
        regions: '["us-east-1","eu-west-1"]',
        alarmTopicArns: JSON.stringify({ "eu-west-1": topic("us-east-1") }),
      }),
    ).to.include("the topic for eu-west-1 is in us-east-1");
    expect(
      await errorOf({
        "aws:region": "us-east-1",
        alarmTopicArns: JSON.stringify({ "eu-west-1": topic("eu-west-1") }),
      }),
    ).to.include("eu-west-1 is not one of the stack's regions (us-east-1)");
    expect(
      await errorOf({
        "aws:region": "us-east-1",
        alarmTopicArn: topic("us-east-1"),
        alarmTopicArns: JSON.stringify({ "us-east-1": topic("us-east-1") }),
      }),
    ).to.include(
      'alarmTopicArn = "arn:aws:sns:us-east-1:111122223333:ops-alerts": alarmTopicArns is set too ({"us-east-1":"arn:aws:sns:us-east-1:111122223333:ops-alerts"}): set alarmTopicArn or alarmTopicArns, not both',
    );
    expect(await errorOf({ "aws:region": "us-east-1", alarmTopicArns: '["x"]' })).to.include(
      'alarmTopicArns = "[\\"x\\"]": must be a JSON object of region to SNS topic ARN',
    );
  });
});
