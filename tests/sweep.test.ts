import { expect } from "chai";
import {
  SHARDS,
  decodeShards,
  encodeShards,
  filterFor,
  planPartitions,
  shardOf,
  shardsPerPartition,
} from "../handler/shards";
import {
  afterRun,
  createFilterCheck,
  leadPartition,
  markDone,
  parseSweepState,
  partitionsFor,
  passForRun,
  sweepReport,
  type SweepState,
} from "../handler/sweep";

const T0 = new Date("2026-11-29T00:00:00Z");
const hours = (h: number) => new Date(T0.getTime() + h * 3_600_000);
const allShards = Array.from({ length: SHARDS }, (_, s) => s);

describe("shards", () => {
  it("reads the shard from the two hex digits after snap-, and nothing from other IDs", () => {
    expect(shardOf("snap-3f0123456789abcde")).to.equal(0x3f);
    expect(shardOf("snap-00")).to.equal(0);
    expect(shardOf("ami-3f01")).to.equal(undefined);
    expect(shardOf("snap-X1")).to.equal(undefined);
  });

  it("encodes done shards as 64 hex digits and back", () => {
    const done = allShards.map((s) => s % 3 === 0);
    const text = encodeShards(done);
    expect(text).to.match(/^[0-9a-f]{64}$/);
    expect(decodeShards(text)).to.deep.equal(done);
    expect(decodeShards("not hex")).to.deep.equal(allShards.map(() => false));
  });

  it("writes whole leading digits as one wildcard and lists everything without a filter", () => {
    expect(filterFor(allShards)).to.equal(undefined);
    expect(filterFor(Array.from({ length: 16 }, (_, i) => 0x30 + i))).to.deep.equal(["snap-3*"]);
    expect(filterFor([0x3f, 0x40])).to.deep.equal(["snap-3f*", "snap-40*"]);
  });

  it("sizes partitions near 12,500 snapshots, and halves a scattered set past 200 filter values", () => {
    expect(shardsPerPartition(1_000_000)).to.equal(4);
    expect(shardsPerPartition(100_000)).to.equal(32);
    expect(shardsPerPartition(500)).to.equal(256);
    // Every other shard done: 128 single-shard values, cut in two partitions of at most 200 values.
    const scattered = allShards.map((s) => s % 2 === 0);
    const partitions = planPartitions(scattered, 256);
    expect(partitions.flatMap((p) => p.shards)).to.deep.equal(allShards.filter((s) => s % 2 === 1));
    expect(partitions.every((p) => (p.filter ?? []).length <= 200)).to.be.true;
  });
});

describe("the sweep's state", () => {
  it("starts a pass when there is no state, or the state is unreadable", () => {
    expect(parseSweepState("{not json")).to.equal(undefined);
    expect(parseSweepState(JSON.stringify({ pass: {} }))).to.equal(undefined);
    const state = passForRun(undefined, T0);
    expect(state.pass).to.deep.equal({ startedAt: T0.toISOString(), done: encodeShards([]), listed: 0 });
    // Size unknown: one partition per leading hex digit.
    expect(partitionsFor(state).map((p) => p.filter)).to.deep.equal(
      [..."0123456789abcdef"].map((digit) => [`snap-${digit}*`]),
    );
  });

  it("continues an unfinished pass, however old", () => {
    const begun = markDone(passForRun(undefined, T0), [0, 1, 2], 30, hours(1));
    const next = passForRun(begun, hours(40));
    expect(next).to.equal(begun);
    expect(partitionsFor(next).flatMap((p) => p.shards)).to.not.include.members([0, 1, 2]);
  });

  it("records a full pass with the account's size, and starts the next pass in the next run", () => {
    const finished = markDone(passForRun(undefined, T0), allShards, 1_000_000, hours(3));
    expect(finished.lastFullPass).to.deep.equal({
      startedAt: T0.toISOString(),
      completedAt: hours(3).toISOString(),
    });
    expect(finished.estimate).to.equal(1_000_000);
    const next = passForRun(finished, hours(4));
    expect(next.pass.startedAt).to.equal(hours(4).toISOString());
    expect(next.lastFullPass).to.deep.equal(finished.lastFullPass);
    // Sized by the estimate: 64 partitions of 4 shards at a million snapshots.
    expect(partitionsFor(next)).to.have.length(64);
  });

  it("says whether a full pass started within the sweep period", () => {
    const finished = markDone(passForRun(undefined, T0), allShards, 10, hours(1));
    expect(sweepReport(finished, hours(23), 24, 0)).to.deep.include({
      passComplete: true,
      shardsDone: 256,
      fullPassWithinSweep: true,
    });
    const stale = passForRun(finished, hours(25));
    expect(sweepReport(stale, hours(25), 24, 0)).to.deep.include({
      passComplete: false,
      shardsDone: 0,
      fullPassWithinSweep: false,
    });
  });

  it("sizes an account of unknown size by its first shard left, and plans the rest without it", () => {
    const state = passForRun(undefined, T0);
    expect(leadPartition(state)).to.deep.equal({ shards: [0], filter: ["snap-00*"] });
    const partShardsDone = { ...state, pass: { ...state.pass, done: encodeShards([true, true, false]) } };
    expect(leadPartition(partShardsDone)).to.deep.equal({ shards: [2], filter: ["snap-02*"] });
    // The first shard held 40: about 10,240 in all, one partition for the other 255 shards.
    const rest = partitionsFor({ ...state, estimate: 40 * SHARDS }, [0]);
    expect(rest).to.have.length(1);
    expect(rest[0].shards).to.deep.equal(allShards.slice(1));
    // The first shard held 3,900: about 1,000,000, 4-shard partitions, the first one short of shard 0.
    const large = partitionsFor({ ...state, estimate: 3_900 * SHARDS }, [0]);
    expect(large).to.have.length(64);
    expect(large[0].shards).to.deep.equal([1, 2, 3]);
  });

  it("lists the rest of a pass unfiltered once the filter is distrusted", () => {
    const state: SweepState = {
      pass: { startedAt: T0.toISOString(), done: encodeShards([true]), listed: 0, unfiltered: true },
    };
    expect(partitionsFor(state)).to.deep.equal([{ shards: allShards }]);
  });
});

describe("the filter's check", () => {
  const sample = ["snap-3f0000000000000a1", "snap-400000000000000b2", "snap-zz"];
  const check = createFilterCheck(sample);

  it("finds sample IDs a filtered listing missed, strays from other shards, and IDs no shard holds", () => {
    const partition = { shards: [0x3f, 0x40], filter: ["snap-3f*", "snap-40*"] };
    expect(check.sampleIn(partition)).to.deep.equal(["snap-3f0000000000000a1", "snap-400000000000000b2"]);
    expect(check.missing(partition, (id) => id.startsWith("snap-3f"))).to.deep.equal([
      "snap-400000000000000b2",
    ]);
    expect(check.strays(partition, ["snap-3f01", "snap-4101"])).to.deep.equal(["snap-4101"]);
    expect(check.unsharded).to.deep.equal(["snap-zz"]);
  });
});

describe("partitions that shrink until a run can finish some", () => {
  it("halves the partitions after a run that cut some short and finished none", () => {
    const state = passForRun(undefined, T0);
    expect(afterRun(state, 256, 1, 0).partitionShards).to.equal(128);
    // Halved below the 16 shards of an account of unknown size: 32 partitions of 8.
    expect(partitionsFor(afterRun(state, 16, 1, 0))).to.have.length(32);
    expect(afterRun(state, 16, 3, 0).partitionShards).to.equal(8);
    // Progress made, or nothing cut: sizes stay.
    expect(afterRun(state, 16, 3, 1)).to.equal(state);
    expect(afterRun(state, 16, 0, 0)).to.equal(state);
    expect(afterRun(state, 1, 5, 0)).to.equal(state);
  });
});
