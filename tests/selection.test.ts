import { expect } from "chai";
import { parseInvocation } from "../handler/invocation";
import { exclusionReason, tagMatchProblems } from "../handler/selection";
import { decideTags } from "../handler/tagPolicy";

const tags = (record: Record<string, string>) =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

describe("which resources are managed", () => {
  it("excludes a resource matching any excludeTags entry, by value or with *", () => {
    const exclude = { Env: "dev", DoNotTag: "*" };
    expect(exclusionReason(tags({ Env: "dev" }), {}, exclude)).to.equal("excludeTags Env=dev");
    expect(exclusionReason(tags({ DoNotTag: "" }), {}, exclude)).to.equal("excludeTags DoNotTag=*");
    expect(exclusionReason(tags({ Env: "prod" }), {}, exclude)).to.equal(undefined);
    expect(exclusionReason(undefined, {}, exclude)).to.equal(undefined);
  });

  it("with includeTags, manages only resources matching every entry", () => {
    const include = { Backup: "*", Team: "db" };
    expect(exclusionReason(tags({ Backup: "nightly", Team: "db" }), include, {})).to.equal(undefined);
    expect(exclusionReason(tags({ Backup: "nightly" }), include, {})).to.equal(
      "includeTags Team=db not matched",
    );
    expect(exclusionReason(undefined, include, {})).to.equal("includeTags Backup=* not matched");
  });

  it("lets exclude win over include", () => {
    expect(exclusionReason(tags({ Backup: "x", Env: "dev" }), { Backup: "*" }, { Env: "dev" })).to.equal(
      "excludeTags Env=dev",
    );
  });

  it("refuses malformed rules, naming the key", () => {
    expect(tagMatchProblems([])).to.have.length(1);
    expect(tagMatchProblems({ Env: 3 })[0]).to.include('value of "Env" must be a string');
    expect(tagMatchProblems({ "": "x" })[0]).to.include("must be 1 to 128 characters");
  });
});

describe("creation-date anchoring", () => {
  const creation = { retentionDays: 365, extraTags: {}, deleteOnFrom: "creation" as const };

  it("dates a new resource from its creation, which may put DeleteOn in the past", () => {
    expect(decideTags(undefined, creation, "2026-11-29", "2024-02-29")).to.deep.include({
      tags: tags({ Retention: "365days", DeleteOn: "2025-02-28" }),
    });
  });

  it("counts leap days", () => {
    expect(
      decideTags(undefined, { ...creation, retentionDays: 1 }, "2026-11-29", "2028-02-28"),
    ).to.deep.include({
      tags: tags({ Retention: "1days", DeleteOn: "2028-02-29" }),
    });
  });

  it("falls back to today when EC2 gave no creation date, and is ignored under first-seen", () => {
    expect(decideTags(undefined, creation, "2026-11-29")).to.deep.include({
      tags: tags({ Retention: "365days", DeleteOn: "2027-11-29" }),
    });
    expect(
      decideTags(undefined, { ...creation, deleteOnFrom: "first-seen" }, "2026-11-29", "2020-01-01"),
    ).to.deep.include({
      tags: tags({ Retention: "365days", DeleteOn: "2027-11-29" }),
    });
  });

  it("never moves a resource already ours: the first anchor stays", () => {
    expect(
      decideTags(
        tags({ Retention: "365days", DeleteOn: "2027-01-01" }),
        creation,
        "2026-11-29",
        "2020-01-01",
      ),
    ).to.deep.equal({
      action: "keep",
    });
  });
});

describe("invocation payloads", () => {
  it("takes no options from a scheduled EventBridge event", () => {
    expect(
      parseInvocation({
        source: "aws.events",
        "detail-type": "Scheduled Event",
        detail: {},
        dryRun: "ignored",
      }),
    ).to.deep.equal({});
  });

  it("takes dryRun from a manual run, and nothing from an empty one", () => {
    expect(parseInvocation({ dryRun: true })).to.deep.equal({ dryRun: true });
    expect(parseInvocation({ dryRun: false })).to.deep.equal({ dryRun: false });
    expect(parseInvocation({})).to.deep.equal({});
    expect(parseInvocation(undefined)).to.deep.equal({});
  });

  it("refuses unknown fields, wrong types and non-objects, naming them", () => {
    expect(() => parseInvocation({ dryRun: "yes" })).to.throw(
      'Invalid invocation payload: dryRun = "yes": must be a boolean',
    );
    expect(() => parseInvocation({ retentionDays: 5 })).to.throw(
      'unknown field "retentionDays"; allowed: dryRun',
    );
    expect(() => parseInvocation("go")).to.throw(/must be a JSON object/);
    expect(() => parseInvocation([1])).to.throw(/must be a JSON object/);
  });
});
