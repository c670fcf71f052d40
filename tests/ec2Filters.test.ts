// EC2's filter rules as the embedded emulator and the benchmark apply them: pure logic.
import { expect } from "chai";
import { compileFilters, isExactValue, valueMatcher } from "../local/emulator/ec2Filters";

const subject = (id: string, tags: Record<string, string> = {}) => ({
  id,
  tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  ownerId: "123456789012",
});

describe("EC2 filters", () => {
  it("match * as any run of characters and ? as exactly one", () => {
    const match = valueMatcher("snap-?b*");
    expect(["snap-ab", "snap-abcdef", "snap-b", "snap-aab"].map(match)).to.deep.equal([
      true,
      true,
      false,
      false,
    ]);
  });

  it("take a backslash-escaped * or ? literally", () => {
    expect([valueMatcher("a\\*b")("a*b"), valueMatcher("a\\*b")("axb"), isExactValue("a\\*b")]).to.deep.equal(
      [true, false, true],
    );
    expect([isExactValue("snap-1"), isExactValue("snap-*"), isExactValue("a\\\\?")]).to.deep.equal([
      true,
      false,
      false,
    ]);
  });

  it("AND filters, OR a filter's values, and look only at the tag named", () => {
    const filters = compileFilters("snapshot", [
      { name: "tag:Env", values: ["prod", "stag*"] },
      { name: "tag-key", values: ["Backup"] },
    ]);
    expect(
      [
        subject("snap-1", { Env: "prod", Backup: "x" }),
        subject("snap-2", { Env: "staging", Backup: "" }),
        subject("snap-3", { Env: "prod" }),
        subject("snap-4", { Owner: "prod", Backup: "x" }),
      ].map(filters.matches),
    ).to.deep.equal([true, true, false, false]);
  });

  it("name the only candidates when an ID filter holds exact IDs, and none when it holds a wildcard", () => {
    expect(
      compileFilters("image", [{ name: "image-id", values: ["ami-1", "ami-2"] }]).exactIds,
    ).to.deep.equal(["ami-1", "ami-2"]);
    expect(compileFilters("image", [{ name: "image-id", values: ["ami-1", "ami-*"] }]).exactIds).to.equal(
      undefined,
    );
  });

  it("refuse a filter they do not know, the other kind's ID filter included, naming it", () => {
    expect(() => compileFilters("image", [{ name: "snapshot-id", values: ["snap-1"] }])).to.throw(
      "The filter 'snapshot-id' is invalid",
    );
    expect(() => compileFilters("snapshot", [{ name: "tag:Env", values: [] }])).to.throw(
      "The filter 'tag:Env' has no values",
    );
  });
});
