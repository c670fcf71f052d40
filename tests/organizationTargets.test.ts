// Organization mode's target selection and dispatch, as data: no AWS, no mocks.
import { expect } from "chai";
import { MAX_BATCH, sendInBatches, type BatchEntry, type BatchFailure } from "../handler/dispatcher";
import {
  parseTargetMessage,
  selectTargets,
  targetMessages,
  walkOrganization,
  type OrgTreePorts,
} from "../handler/organizationTargets";

/** A tree as parent -> children; accounts are 12 digits, everything else a unit. */
function fakeOrganization(tree: Record<string, string[]>, states: Record<string, string> = {}) {
  const calls: string[] = [];
  const ports: OrgTreePorts = {
    async accountsIn(parentId) {
      calls.push(`accounts ${parentId}`);
      return (tree[parentId] ?? [])
        .filter((id) => /^\d{12}$/.test(id))
        .map((id) => ({ id, state: states[id] ?? "ACTIVE" }));
    },
    async unitsIn(parentId) {
      calls.push(`units ${parentId}`);
      return (tree[parentId] ?? []).filter((id) => !/^\d{12}$/.test(id));
    },
  };
  return { ports, calls };
}

const ROOT = "r-ab12";
const PROD = "ou-ab12-prod0001";
const WEB = "ou-ab12-web00001";
const DEV = "ou-ab12-dev00001";
const SANDBOX = "ou-ab12-sandbox1";
const TREE = {
  [ROOT]: ["111111111111", PROD, DEV],
  [PROD]: ["222222222222", "333333333333", WEB],
  [WEB]: ["444444444444"],
  [DEV]: ["555555555555", SANDBOX],
  [SANDBOX]: ["666666666666"],
};

describe("organization: walking the tree", () => {
  it("finds every account below the configured units, at any depth", async () => {
    const { ports } = fakeOrganization(TREE);
    const tree = await walkOrganization(ports, [PROD, DEV], []);
    expect(tree.accounts.map((a) => [a.id, a.parentId])).to.deep.equal([
      ["222222222222", PROD],
      ["333333333333", PROD],
      ["555555555555", DEV],
      ["444444444444", WEB],
      ["666666666666", SANDBOX],
    ]);
    expect(tree.unitsVisited).to.equal(4);
  });

  it("leaves out an excluded OU and everything below it, without listing it", async () => {
    const { ports, calls } = fakeOrganization(TREE);
    const tree = await walkOrganization(ports, [ROOT], [SANDBOX, WEB]);
    expect(tree.accounts.map((a) => a.id).sort()).to.deep.equal([
      "111111111111",
      "222222222222",
      "333333333333",
      "555555555555",
    ]);
    expect(tree.unitsExcluded.sort()).to.deep.equal([SANDBOX, WEB].sort());
    expect(calls.filter((c) => c.endsWith(SANDBOX) || c.endsWith(WEB))).to.deep.equal([]);
  });

  it("visits each unit once and lists each account once when configured units overlap", async () => {
    const { ports, calls } = fakeOrganization(TREE);
    const tree = await walkOrganization(ports, [ROOT, PROD, WEB], []);
    const ids = tree.accounts.map((a) => a.id);
    expect(ids).to.have.length(6);
    expect(new Set(ids).size).to.equal(6);
    expect(calls.filter((c) => c === `accounts ${PROD}`)).to.have.length(1);
  });
});

describe("organization: selecting targets", () => {
  const accounts = [
    { id: "111111111111", state: "ACTIVE", parentId: ROOT },
    { id: "222222222222", state: "ACTIVE", parentId: PROD },
    { id: "333333333333", state: "SUSPENDED", parentId: PROD },
    { id: "444444444444", state: "PENDING_CLOSURE", parentId: WEB },
    { id: "555555555555", state: "ACTIVE", parentId: DEV },
  ];

  it("covers every active account in every region, skipping suspended ones and the management account", () => {
    const selection = selectTargets(accounts, {
      includeAccounts: [],
      excludeAccounts: [],
      regions: ["us-east-1", "eu-west-1"],
      managementAccountId: "111111111111",
    });
    expect(selection.targets).to.deep.equal([
      { account: "222222222222", region: "us-east-1" },
      { account: "222222222222", region: "eu-west-1" },
      { account: "555555555555", region: "us-east-1" },
      { account: "555555555555", region: "eu-west-1" },
    ]);
    expect(selection.skipped).to.deep.equal([
      { account: "111111111111", reason: "the management account: StackSets deploy no member role there" },
      { account: "333333333333", reason: "state SUSPENDED" },
      { account: "444444444444", reason: "state PENDING_CLOSURE" },
    ]);
  });

  it("honours excludeAccounts, and includeAccounts as a restriction reporting those not found", () => {
    const excluded = selectTargets(accounts, {
      includeAccounts: [],
      excludeAccounts: ["222222222222"],
      regions: ["us-east-1"],
    });
    expect(excluded.targets.map((t) => t.account)).to.deep.equal(["111111111111", "555555555555"]);
    expect(excluded.skipped[0]).to.deep.equal({
      account: "222222222222",
      reason: "listed in excludeAccounts",
    });

    const included = selectTargets(accounts, {
      includeAccounts: ["555555555555", "999999999999"],
      excludeAccounts: [],
      regions: ["us-east-1"],
    });
    expect(included.targets).to.deep.equal([{ account: "555555555555", region: "us-east-1" }]);
    expect(included.notFound).to.deep.equal(["999999999999"]);
    expect(included.skipped.map((s) => s.reason)).to.include("not listed in includeAccounts");
  });
});

describe("organization: target messages", () => {
  const regions = ["us-east-1", "eu-west-1"];

  it("round-trips a target, with a manual run's dryRun when given", () => {
    const [plain, dry] = [
      targetMessages([{ account: "222222222222", region: "eu-west-1" }]),
      targetMessages([{ account: "222222222222", region: "eu-west-1" }], { dryRun: true }),
    ];
    expect(parseTargetMessage(plain[0], regions)).to.deep.equal({
      ok: true,
      target: { account: "222222222222", region: "eu-west-1" },
    });
    expect(parseTargetMessage(dry[0], regions)).to.deep.equal({
      ok: true,
      target: { account: "222222222222", region: "eu-west-1", dryRun: true },
    });
  });

  it("refuses a body that is not a target of the worker's regions, saying why", () => {
    const problem = (body: string) => (parseTargetMessage(body, regions) as { problem: string }).problem;
    expect(problem("nope")).to.match(/^not JSON/);
    expect(problem("[1]")).to.match(/^not a JSON object/);
    expect(problem('{"account":"12345","region":"ap-south-1","dryRun":"yes","x":1}')).to.equal(
      'account "12345": must be a 12-digit account ID; region "ap-south-1": must be one of us-east-1, eu-west-1; dryRun "yes": must be a boolean; unknown fields "x"',
    );
    const many = JSON.stringify({
      account: "123456789012",
      region: "us-east-1",
      ...Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`k${i}`, i])),
    });
    expect(problem(many)).to.match(/^unknown fields "k0", .*"k9" and 7990 more$/);
  });
});

describe("organization: sending targets", () => {
  const bodies = Array.from({ length: 23 }, (_, i) => `body-${i}`);
  const noPause = async () => {};

  it("sends 10 a call, each body once", async () => {
    const calls: BatchEntry[][] = [];
    const outcome = await sendInBatches(
      async (entries) => {
        calls.push(entries);
        return [];
      },
      bodies,
      noPause,
    );
    expect(calls.map((c) => c.length)).to.deep.equal([MAX_BATCH, MAX_BATCH, 3]);
    expect(calls.flat().map((e) => e.MessageBody)).to.deep.equal(bodies);
    expect(outcome).to.deep.equal({ sent: 23, failed: [] });
  });

  it("sends entries SQS failed again, up to three attempts, but not those the sender is at fault for", async () => {
    const calls: string[][] = [];
    const outcome = await sendInBatches(
      async (entries): Promise<BatchFailure[]> => {
        calls.push(entries.map((e) => e.MessageBody));
        return entries.flatMap((e): BatchFailure[] => {
          if (e.MessageBody === "body-1" && calls.length === 1) {
            return [{ Id: e.Id, Code: "InternalError" }];
          }
          if (e.MessageBody === "body-2") {
            return [{ Id: e.Id, Code: "ServiceUnavailable" }];
          }
          if (e.MessageBody === "body-3") {
            return [{ Id: e.Id, Code: "InvalidMessageContents", Message: "bad", SenderFault: true }];
          }
          return [];
        });
      },
      bodies.slice(0, 5),
      noPause,
    );
    expect(calls).to.deep.equal([
      ["body-0", "body-1", "body-2", "body-3", "body-4"],
      ["body-1", "body-2"],
      ["body-2"],
    ]);
    expect(outcome.sent).to.equal(3);
    expect(outcome.failed).to.deep.equal([
      { body: "body-3", code: "InvalidMessageContents", message: "bad" },
      { body: "body-2", code: "ServiceUnavailable", message: "" },
    ]);
  });
});
