// The benchmark's figures are only as good as its EC2 account (local/emulator/ec2Account.ts, which
// the embedded emulator serves too): it must page, fail and throttle as EC2 does.
import { expect } from "chai";
import { Ec2Account, Ec2Error } from "../local/emulator/ec2Account";
import { accountSpec, minimumCalls } from "../bench/scenarios";
import { EC2_BUCKETS, TokenBucket } from "../local/emulator/tokenBucket";

function account(snapshots: number, isGone?: (kind: string, i: number) => boolean) {
  let now = 0;
  const fake = new Ec2Account(
    { images: 0, snapshots, initialTags: () => [], isGone },
    { now: () => now, throttle: true },
  );
  return { fake, advance: (ms: number) => (now += ms) };
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as Ec2Error).code;
  }
  return "no error";
};

describe("the benchmark's EC2 account", () => {
  it("pages at most MaxResults with a NextToken, and refuses page sizes EC2 refuses", () => {
    const { fake } = account(2500);
    const first = fake.describe("snapshot", { maxResults: 1000 });
    const last = fake.describe("snapshot", { maxResults: 1000, nextToken: "2000" });
    expect([first.items.length, first.nextToken, last.items.length, last.nextToken]).to.deep.equal([
      1000,
      "1000",
      500,
      undefined,
    ]);
    expect(codeOf(() => fake.describe("snapshot", { maxResults: 1001 }))).to.equal("InvalidParameterValue");
    expect(codeOf(() => fake.describe("snapshot", { maxResults: 4 }))).to.equal("InvalidParameterValue");
  });

  it("fails a whole CreateTags when one ID is gone, naming only the first", () => {
    const { fake } = account(10, (_kind, i) => i === 3 || i === 7);
    const ids = fake.describe("snapshot", { maxResults: 10 }).items.map((item) => item.id);
    let error: Ec2Error | undefined;
    try {
      fake.createTags(ids, [{ Key: "Retention", Value: "90days" }]);
    } catch (e) {
      error = e as Ec2Error;
    }
    expect(error?.code).to.equal("InvalidSnapshot.NotFound");
    expect(error?.message).to.equal(`The snapshot '${ids[3]}' does not exist.`);
    expect(ids.every((id) => fake.tagsOf(id).length === 0)).to.be.true;
    const filters = [{ name: "snapshot-id", values: ids }];
    expect(fake.describe("snapshot", { filters }).items.map((i) => i.id)).to.deep.equal(
      ids.filter((_, i) => i !== 3 && i !== 7),
    );
  });

  it("refuses over 1000 IDs, over 200 filter values, and a 51st tag", () => {
    const { fake, advance } = account(1001);
    const ids = fake.describe("snapshot", {}).items.map((item) => item.id);
    expect(codeOf(() => fake.createTags(ids, [{ Key: "a", Value: "b" }]))).to.equal("InvalidParameterValue");
    const filters = [{ name: "snapshot-id", values: ids.slice(0, 201) }];
    expect(codeOf(() => fake.describe("snapshot", { filters }))).to.equal("InvalidParameterValue");
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: "v" }));
    advance(10_000);
    fake.createTags([ids[0]], fifty);
    expect(codeOf(() => fake.createTags([ids[0]], [{ Key: "one-more", Value: "v" }]))).to.equal(
      "TagLimitExceeded",
    );
  });

  it("throttles CreateTags after a burst of 100 and refills 10 a second", () => {
    const { fake, advance } = account(300);
    const ids = fake.describe("snapshot", { maxResults: 300 }).items.map((item) => item.id);
    for (let i = 0; i < 100; i++) {
      fake.createTags([ids[i]], [{ Key: "a", Value: "b" }]);
    }
    expect(codeOf(() => fake.createTags([ids[100]], [{ Key: "a", Value: "b" }]))).to.equal(
      "RequestLimitExceeded",
    );
    advance(100);
    expect(codeOf(() => fake.createTags([ids[100]], [{ Key: "a", Value: "b" }]))).to.equal("no error");
    expect(fake.throttled).to.deep.equal({ CreateTags: 1 });
  });

  it("gives unpaginated DescribeSnapshots the smaller bucket of 50", () => {
    const { fake } = account(1);
    for (let i = 0; i < 50; i++) {
      fake.describe("snapshot", {});
    }
    expect(codeOf(() => fake.describe("snapshot", {}))).to.equal("RequestLimitExceeded");
    expect(codeOf(() => fake.describe("snapshot", { maxResults: 5 }))).to.equal("no error");
  });

  it("token buckets say how long a paced caller waits", () => {
    let now = 0;
    const bucket = new TokenBucket(EC2_BUCKETS.createTags, () => now);
    for (let i = 0; i < 100; i++) {
      bucket.take();
    }
    expect(bucket.waitMs()).to.equal(100);
    now += 100;
    expect(bucket.take()).to.be.true;
  });

  it("counts the minimum: one CreateTags per 1000 per tag set, plus what damaged batches cost", () => {
    expect(minimumCalls(accountSpec("first run", 2500))).to.deep.include({
      listPages: 4,
      createTags: 4,
      total: 8,
    });
    expect(minimumCalls(accountSpec("steady state", 2500))).to.deep.include({ createTags: 0, total: 4 });
    const deleted = minimumCalls(accountSpec("1% deleted mid-run", 2500));
    expect(deleted.createTags).to.be.above(4);
    expect(deleted.existenceChecks).to.be.above(0);
  });
});
