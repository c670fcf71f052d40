// The benchmark's figures are only as good as its EC2 account (local/emulator/ec2Account.ts, which
// the embedded emulator serves too): it must page, fail and throttle as EC2 does.
import { expect } from "chai";
import { Ec2Account, Ec2Error } from "../local/emulator/ec2Account";
import { accountSpec, minimumCalls } from "../bench/scenarios";
import { EC2_BUCKETS, TokenBucket } from "../local/emulator/tokenBucket";
import { indexOfId, resourceId, shardByte } from "../local/emulator/resourceTable";
import { serviceTimeMs } from "../local/emulator/latency";
import { compactIds } from "../bench/compactLedger";
import { pacedSeedSeconds, runSeedWithRetries } from "../bench/seedModel";

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

  it("counts the minimum across kinds: AMIs and snapshots with the same tags share CreateTags", () => {
    // 2,500 snapshots and 250 AMIs: 3 + 1 pages, and 2,750 IDs of one tag set in 3 calls (4 per kind).
    expect(minimumCalls(accountSpec("first run", 2500))).to.deep.include({
      listPages: 4,
      createTags: 3,
      total: 7,
      perKindTotal: 8,
    });
    expect(minimumCalls(accountSpec("steady state", 2500))).to.deep.include({ createTags: 0, total: 4 });
    const deleted = minimumCalls(accountSpec("1% deleted mid-run", 2500));
    expect(deleted.createTags).to.be.above(3);
    expect(deleted.existenceChecks).to.be.above(0);
  });

  it("counts issue 14's retention change at 100,000 snapshots + 10,000 AMIs as 140 calls", () => {
    expect(minimumCalls(accountSpec("retention change 10%", 100_000))).to.deep.include({
      total: 140,
      perKindTotal: 170,
    });
  });

  it("spreads IDs over the 256 shard prefixes, each parseable back to its index", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 4096; i++) {
      const id = resourceId("snap", i);
      expect(id).to.match(/^snap-[0-9a-f]{17}$/);
      expect(indexOfId(id)).to.equal(i);
      expect(parseInt(id.slice(5, 7), 16)).to.equal(shardByte(i));
      seen.add(shardByte(i));
    }
    expect(seen.size).to.equal(256);
  });

  it("lists one shard with a snapshot-id wildcard, and counts each listing per resource", () => {
    const fake = new Ec2Account({ images: 0, snapshots: 3000, initialTags: () => [] }, { countVisits: true });
    const shard = fake.describe("snapshot", { filters: [{ name: "snapshot-id", values: ["snap-3f*"] }] });
    expect(shard.items.length).to.be.within(3, 25);
    expect(shard.items.every((item) => item.id.startsWith("snap-3f"))).to.be.true;
    const high = fake.describe("snapshot", { filters: [{ name: "snapshot-id", values: ["snap-3*"] }] });
    expect(high.items.length).to.be.within(130, 250);
    const visits = fake.visits("snapshot") as Uint16Array;
    expect(visits.reduce((a, b) => a + b, 0)).to.equal(shard.items.length + high.items.length);
  });

  it("leaves a caller the refill a background load does not take", () => {
    const now = 0;
    const bucket = new TokenBucket(EC2_BUCKETS.createTags, () => now, 6);
    for (let i = 0; i < 100; i++) {
      bucket.take();
    }
    expect(bucket.waitMs()).to.equal(250);
  });

  it("charges service time per page and per CreateTags as issue 14 measured them", () => {
    expect(
      ["low", "mid", "high"].map((p) => serviceTimeMs(p as "mid", "DescribeSnapshots", 1000)),
    ).to.deep.equal([500, 1000, 1500]);
    expect(["low", "mid", "high"].map((p) => serviceTimeMs(p as "mid", "CreateTags", 1000))).to.deep.equal([
      300, 650, 1000,
    ]);
  });

  it("keeps the benchmark ledger's IDs compact and exact, AMIs apart from snapshots", () => {
    const ids = compactIds([resourceId("snap", 7), resourceId("ami", 9), resourceId("snap", 123456)]);
    expect(
      [resourceId("snap", 7), resourceId("ami", 9), resourceId("snap", 123456)].every((id) => ids.has(id)),
    ).to.be.true;
    expect(ids.has(resourceId("ami", 7)) || ids.has(resourceId("snap", 9))).to.be.false;
  });

  it("models the seed: boto3 retries tag a few thousand before the timeout; paced needs 10,990 s for 110,000", () => {
    expect(pacedSeedSeconds(110_000)).to.equal(10_990);
    const seed = runSeedWithRetries(accountSpec("first run", 5_000), "mid", 300_000);
    expect(seed.timedOut).to.be.true;
    expect(seed.tagged).to.be.within(2_000, 5_000);
    expect(seed.throttled).to.be.above(0);
  });
});
