import { expect } from "chai";
import fc from "fast-check";
import { addDays } from "../handler/dates";
import { decideTags, tagSetKey, type Tag } from "../handler/tagPolicy";

const TODAY = "2026-11-29";
const settings = { retentionDays: 90, extraTags: {} };
const tags = (record: Record<string, string>): Tag[] =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

describe("tag policy", () => {
  it("case 1: an untagged resource gets Retention and DeleteOn = today + N", () => {
    expect(decideTags(undefined, settings, TODAY)).to.deep.equal({
      action: "write",
      reason: "new",
      proof: "record",
      tags: tags({ Retention: "90days", DeleteOn: "2027-02-27" }),
    });
    expect(decideTags(tags({ Name: "db backup" }), settings, TODAY)).to.have.property("action", "write");
  });

  it("case 2: our tags under the current retention are left as they are, on any later day", () => {
    const ours = tags({ Retention: "90days", DeleteOn: "2027-01-15" });
    expect(decideTags(ours, settings, TODAY, undefined, { proof: "proven" })).to.deep.equal({
      action: "keep",
      proof: "proven",
    });
    expect(decideTags(ours, settings, "2027-01-14")).to.deep.equal({ action: "keep", proof: "unproven" });
  });

  it("case 3: a retention change keeps the original anchor date", () => {
    // Tagged on 2026-11-20 under 30 days: DeleteOn 2026-12-20. Under 90 days: anchor + 90.
    const old = tags({ Retention: "30days", DeleteOn: "2026-12-20" });
    expect(decideTags(old, settings, TODAY, undefined, { proof: "proven" })).to.deep.equal({
      action: "write",
      reason: "re-anchored",
      proof: "record",
      tags: tags({ Retention: "90days", DeleteOn: "2027-02-18" }),
    });
  });

  it("case 3: re-anchoring may land in the past when retention shrinks, and says so by the date alone", () => {
    const decision = decideTags(
      tags({ Retention: "365days", DeleteOn: "2027-06-01" }),
      { ...settings, retentionDays: 7 },
      TODAY,
    );
    expect(decision).to.deep.include({ action: "write" });
    expect((decision as { tags: Tag[] }).tags).to.deep.include({ Key: "DeleteOn", Value: "2026-06-08" });
  });

  it("case 3: changing retention and changing it back restores the original DeleteOn", () => {
    const dates = fc.integer({ min: 0, max: 60_000 }).map((d) => addDays("1990-01-01", d) as string);
    const days = fc.integer({ min: 1, max: 36_500 });
    fc.assert(
      fc.property(dates, days, days, (deleteOn, m, n) => {
        const original = tags({ Retention: `${m}days`, DeleteOn: deleteOn });
        const first = decideTags(original, { retentionDays: n, extraTags: {} }, TODAY);
        // A move that would leave 1970-01-01 to 9999-12-31 repairs from today instead (tested below).
        fc.pre(first.action !== "write" || first.reason !== "repaired");
        const afterFirst = first.action === "write" ? first.tags : original;
        const second = decideTags(afterFirst, { retentionDays: m, extraTags: {} }, TODAY);
        const afterSecond = second.action === "write" ? second.tags : afterFirst;
        return tagSetKey(afterSecond) === tagSetKey(original);
      }),
    );
  });

  it("case 4: a DeleteOn without our Retention tag is someone else's, and skipped", () => {
    const decision = decideTags(tags({ DeleteOn: "2030-01-01" }), settings, TODAY);
    expect(decision).to.deep.equal({ action: "skip", reason: "DeleteOn=2030-01-01 without a Retention tag" });
  });

  it("case 4: a Retention value not of the form <N>days is someone else's, and skipped", () => {
    for (const value of ["keep", "forever", "90 days", "90Days", "0days", "090days", "99999days", ""]) {
      expect(decideTags(tags({ Retention: value }), settings, TODAY), value).to.have.property(
        "action",
        "skip",
      );
    }
  });

  it("case 4: a skipped resource gets no extra tags either", () => {
    const decision = decideTags(
      tags({ Retention: "keep" }),
      { ...settings, extraTags: { Owner: "infra" } },
      TODAY,
    );
    expect(decision.action).to.equal("skip");
  });

  it("case 5: extra tags are added only where the key is absent", () => {
    const extraTags = { Owner: "infra", CostCenter: "IT" };
    const decision = decideTags(tags({ Owner: "payments" }), { ...settings, extraTags }, TODAY);
    expect(decision).to.deep.equal({
      action: "write",
      reason: "new",
      proof: "record",
      tags: tags({ Retention: "90days", DeleteOn: "2027-02-27", CostCenter: "IT" }),
    });
  });

  it("case 5: a resource that is ours already gets only its missing extra tags", () => {
    const ours = tags({ Retention: "90days", DeleteOn: "2027-01-15" });
    const decision = decideTags(ours, { ...settings, extraTags: { Owner: "infra" } }, TODAY);
    expect(decision).to.deep.equal({
      action: "write",
      reason: "extra-tags",
      proof: "unproven",
      tags: tags({ Owner: "infra" }),
    });
  });

  it("case 6: our Retention with a missing or malformed DeleteOn is re-dated from today, with a warning", () => {
    const cases: Record<string, string>[] = [
      { Retention: "30days" },
      { Retention: "30days", DeleteOn: "2026-02-30" },
      { Retention: "90days", DeleteOn: "soon" },
      { Retention: "90days", DeleteOn: "0100-03-01" },
      { Retention: "90days", DeleteOn: "+010000-01-01" },
    ];
    for (const existing of cases) {
      const decision = decideTags(tags(existing), settings, TODAY, undefined, { proof: "proven" });
      expect(decision, JSON.stringify(existing)).to.deep.include({
        action: "write",
        reason: "repaired",
        proof: "unproven",
        tags: tags({ Retention: "90days", DeleteOn: "2027-02-27" }),
      });
      expect((decision as { warning?: string }).warning).to.match(/re-dated from today/);
    }
  });

  it("a re-anchoring that would leave 9999-12-31 repairs from today instead of writing a malformed date", () => {
    const decision = decideTags(
      tags({ Retention: "30days", DeleteOn: "9999-12-31" }),
      settings,
      TODAY,
      undefined,
      {
        proof: "proven",
      },
    );
    expect(decision).to.deep.include({
      action: "write",
      reason: "repaired",
      proof: "unproven",
      tags: tags({ Retention: "90days", DeleteOn: "2027-02-27" }),
    });
  });

  it("a year-0100 DeleteOn under another retention is repaired, never thrown on", () => {
    const decision = decideTags(
      tags({ Retention: "90days", DeleteOn: "0100-03-01" }),
      { ...settings, retentionDays: 30 },
      TODAY,
    );
    expect(decision).to.deep.include({ action: "write", reason: "repaired" });
  });

  it("9999-12-31 under the current retention is kept as it is", () => {
    const decision = decideTags(
      tags({ Retention: "90days", DeleteOn: "9999-12-31" }),
      settings,
      TODAY,
      undefined,
      {
        proof: "proven",
      },
    );
    expect(decision).to.deep.equal({ action: "keep", proof: "proven" });
  });

  it("records only dates derived from a first sighting or from proven tags", () => {
    const old = tags({ Retention: "30days", DeleteOn: "2026-12-20" });
    const proofAfter = (proof: "proven" | "unproven" | "unknown") => {
      const d = decideTags(old, settings, TODAY, undefined, { proof });
      return d.action === "write" ? d.proof : d.action;
    };
    expect(proofAfter("proven")).to.equal("record");
    expect(proofAfter("unproven")).to.equal("unproven");
    // Without the entry, re-anchoring would turn a proven backup into an unproven one for good.
    expect(proofAfter("unknown")).to.equal("defer");
  });

  it("adopts settled, unproven tags only when asked, and never ones carrying someone's RetentionBatch", () => {
    const hand = tags({ Retention: "90days", DeleteOn: "2020-01-01" });
    expect(decideTags(hand, settings, TODAY)).to.deep.equal({ action: "keep", proof: "unproven" });
    expect(decideTags(hand, settings, TODAY, undefined, { adopt: true })).to.deep.equal({
      action: "write",
      reason: "adopted",
      proof: "record",
      tags: hand,
    });
    const copied = tags({ Retention: "90days", DeleteOn: "2020-01-01", RetentionBatch: "b-1" });
    expect(decideTags(copied, settings, TODAY, undefined, { adopt: true })).to.deep.equal({
      action: "keep",
      proof: "unproven",
    });
    expect(decideTags(hand, settings, TODAY, undefined, { adopt: true, proof: "proven" })).to.deep.equal({
      action: "keep",
      proof: "proven",
    });
  });

  it("tag keys are case-sensitive, as in EC2: a lower-case retention tag is not ours", () => {
    const decision = decideTags(tags({ retention: "keep" }), settings, TODAY);
    expect(decision).to.deep.include({ action: "write", reason: "new" });
  });

  it("never writes a key that is already present with another value, except our own two", () => {
    const record = fc.dictionary(
      fc.constantFrom("Retention", "DeleteOn", "Owner", "Name", "Team"),
      fc.oneof(fc.constantFrom("30days", "90days", "keep", "2026-12-01", "x"), fc.string()),
    );
    fc.assert(
      fc.property(record, (existing) => {
        const decision = decideTags(
          tags(existing),
          { retentionDays: 90, extraTags: { Owner: "infra", Team: "ops" } },
          TODAY,
        );
        if (decision.action !== "write") {
          return true;
        }
        return decision.tags.every((t) => ["Retention", "DeleteOn"].includes(t.Key) || !(t.Key in existing));
      }),
    );
  });

  it("gives identical tag sets the same key regardless of order", () => {
    expect(tagSetKey(tags({ A: "1", B: "2" }))).to.equal(tagSetKey(tags({ B: "2", A: "1" })));
    expect(tagSetKey(tags({ A: "1" }))).not.to.equal(tagSetKey(tags({ A: "2" })));
  });
});
