import { expect } from "chai";
import sinon from "sinon";
import { MAX_PENDING_IDS, createBatchWriter, type Failure } from "../handler/write";
import { describeError } from "../handler/errors";
import type { Tag } from "../handler/tagPolicy";
import { ec2Error, recordingLogger } from "./support/ec2Stub";

const TAGS_A: Tag[] = [
  { Key: "Retention", Value: "90days" },
  { Key: "DeleteOn", Value: "2027-02-27" },
];
const TAGS_B: Tag[] = [
  { Key: "Retention", Value: "90days" },
  { Key: "DeleteOn", Value: "2027-01-01" },
];
const ids = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i.toString(16).padStart(6, "0")}`);

function writer(
  send: sinon.SinonStub,
  overrides: { dryRun?: boolean; outOfTime?: () => boolean; findExisting?: sinon.SinonStub } = {},
) {
  const failures: Failure[] = [];
  const { log, lines } = recordingLogger();
  const w = createBatchWriter({
    send,
    // Unless a test wires it, the existence check is unavailable and the writer must cope without.
    findExisting: overrides.findExisting ?? sinon.stub().rejects(new Error("no existence check here")),
    log,
    kind: "snapshot",
    dryRun: overrides.dryRun ?? false,
    outOfTime: overrides.outOfTime ?? (() => false),
    onFailure: (f) => failures.push(f),
  });
  return { w, failures, lines };
}

describe("batch writer", () => {
  it("sends one call per 1000 IDs sharing a tag set", async () => {
    const send = sinon.stub().resolves();
    const { w } = writer(send);
    for (const id of ids("snap", 2500)) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.getCalls().map((c) => c.args[0].length)).to.deep.equal([1000, 1000, 500]);
    expect(w.written).to.equal(2500);
  });

  it("keeps different tag sets in different calls", async () => {
    const send = sinon.stub().resolves();
    const { w } = writer(send);
    await w.add("snap-1", TAGS_A);
    await w.add("snap-2", TAGS_B);
    await w.add("snap-3", TAGS_A);
    await w.flush();
    expect(send.getCalls().map((c) => [c.args[0], c.args[1]])).to.deep.equal([
      [["snap-1", "snap-3"], TAGS_A],
      [["snap-2"], TAGS_B],
    ]);
  });

  it("holds at most MAX_PENDING_IDS IDs however many tag sets it meets", async () => {
    const send = sinon.stub().resolves();
    const { w } = writer(send);
    let maxPending = 0;
    let sentSoFar = 0;
    send.callsFake(async (batch: string[]) => {
      sentSoFar += batch.length;
    });
    for (let i = 0; i < 30_000; i++) {
      const tags = [{ Key: "DeleteOn", Value: `date-${i % 50}` }];
      await w.add(`snap-${i}`, tags);
      maxPending = Math.max(maxPending, i + 1 - sentSoFar);
    }
    await w.flush();
    expect(maxPending).to.be.at.most(MAX_PENDING_IDS + 1);
    expect(sentSoFar).to.equal(30_000);
  });

  it("isolates IDs named in a NotFound error and tags the rest", async () => {
    const batch = ids("snap", 10);
    const send = sinon.stub();
    send
      .onFirstCall()
      .rejects(ec2Error("InvalidSnapshot.NotFound", `The snapshot '${batch[3]}' does not exist.`));
    send.resolves();
    const { w, failures } = writer(send);
    for (const id of batch) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.callCount).to.equal(2);
    expect(send.secondCall.args[0]).to.deep.equal(batch.filter((_, i) => i !== 3));
    expect(failures).to.deep.equal([
      {
        id: batch[3],
        code: "InvalidSnapshot.NotFound",
        message: `The snapshot '${batch[3]}' does not exist.`,
      },
    ]);
    expect(w.written).to.equal(9);
  });

  it("finds every missing ID with one existence check when EC2 names only the first", async () => {
    const batch = ids("snap", 1000);
    const gone = new Set([batch[10], batch[500], batch[999]]);
    const send = sinon.stub().callsFake(async (chunk: string[]) => {
      const first = chunk.find((id) => gone.has(id));
      if (first) {
        throw ec2Error("InvalidSnapshot.NotFound", `The snapshot '${first}' does not exist.`);
      }
    });
    const findExisting = sinon
      .stub()
      .callsFake(async (chunk: string[]) => chunk.filter((id) => !gone.has(id)));
    const { w, failures } = writer(send, { findExisting });
    for (const id of batch) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.callCount).to.equal(2);
    expect(findExisting.callCount).to.equal(1);
    expect(failures.map((f) => f.id).sort()).to.deep.equal([...gone].sort());
    expect(failures.every((f) => f.code === "InvalidSnapshot.NotFound")).to.be.true;
    expect(failures.find((f) => f.id === batch[10])?.message).to.equal(
      `The snapshot '${batch[10]}' does not exist.`,
    );
    expect(failures.find((f) => f.id === batch[500])?.message).to.equal(`${batch[500]} no longer exists`);
    expect(w.written).to.equal(997);
  });

  it("falls back to the named ID when the existence check fails", async () => {
    const batch = ids("snap", 4);
    const send = sinon.stub();
    send
      .onFirstCall()
      .rejects(ec2Error("InvalidSnapshot.NotFound", `The snapshot '${batch[1]}' does not exist.`));
    send.resolves();
    const { w, failures, lines } = writer(send);
    for (const id of batch) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(failures.map((f) => f.id)).to.deep.equal([batch[1]]);
    expect(w.written).to.equal(3);
    expect(lines.some((l) => l.message.startsWith("existence check failed"))).to.be.true;
  });

  it("bisects when the error does not name the ID, in O(log n) calls", async () => {
    const batch = ids("snap", 1000);
    const bad = batch[617];
    const send = sinon.stub().callsFake(async (chunk: string[]) => {
      if (chunk.includes(bad)) {
        throw ec2Error("InvalidSnapshot.NotFound", "None");
      }
    });
    const { w, failures } = writer(send);
    for (const id of batch) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(failures.map((f) => f.id)).to.deep.equal([bad]);
    expect(w.written).to.equal(999);
    expect(send.callCount).to.be.at.most(2 * Math.ceil(Math.log2(1000)) + 1);
  });

  it("reports every ID of a call refused for a reason that is not per resource, without retrying", async () => {
    const send = sinon
      .stub()
      .rejects(ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation."));
    const { w, failures } = writer(send);
    for (const id of ids("ami", 5)) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.callCount).to.equal(1);
    expect(failures).to.have.length(5);
    expect(failures.every((f) => f.code === "UnauthorizedOperation")).to.be.true;
  });

  it("writes nothing in a dry run but counts what it would write", async () => {
    const send = sinon.stub().resolves();
    const { w, lines } = writer(send, { dryRun: true });
    for (const id of ids("snap", 1500)) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.called).to.be.false;
    expect(w.written).to.equal(1500);
    expect(lines.filter((l) => l.message === "dry run: would tag batch")).to.have.length(2);
  });

  it("starts no call once time is up, and counts what it did not reach", async () => {
    const send = sinon.stub().resolves();
    let calls = 0;
    const { w } = writer(send, { outOfTime: () => calls >= 1 });
    send.callsFake(async () => {
      calls += 1;
    });
    for (const id of ids("snap", 2500)) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(send.callCount).to.equal(1);
    expect(w.written).to.equal(1000);
    expect(w.notReached).to.equal(1500);
  });

  it("logs one line per batch, not per resource", async () => {
    const send = sinon.stub().resolves();
    const { w, lines } = writer(send);
    for (const id of ids("snap", 2000)) {
      await w.add(id, TAGS_A);
    }
    await w.flush();
    expect(lines).to.have.length(2);
    expect(lines[0]).to.deep.include({ level: "INFO", message: "tagged batch", count: 1000, failed: 0 });
  });

  it("reads the EC2 error code from what the SDK throws", () => {
    expect(describeError(ec2Error("InvalidAMIID.NotFound", "gone"))).to.deep.equal({
      code: "InvalidAMIID.NotFound",
      message: "gone",
    });
    expect(describeError("boom")).to.deep.equal({ code: "Error", message: "boom" });
  });
});
