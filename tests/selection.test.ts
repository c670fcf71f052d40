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
      proof: "unproven",
    });
  });
});

describe("invocation payloads", () => {
  const scheduled = {
    version: "0",
    id: "e2e",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "123456789012",
    time: "2026-11-29T02:00:00Z",
    region: "us-east-1",
    resources: ["arn:aws:events:us-east-1:123456789012:rule/TagEC2Backups-DailyEC2BackupTagger"],
    detail: {},
  };

  it("takes no options from a scheduled EventBridge event", () => {
    expect(parseInvocation(scheduled)).to.deep.equal({});
    expect(parseInvocation({ ...scheduled, "replay-name": "replay-1" })).to.deep.equal({});
  });

  it("never ignores dryRun: honoured in a payload shaped like a scheduled event, refused when not a boolean", () => {
    expect(parseInvocation({ ...scheduled, dryRun: true })).to.deep.equal({ dryRun: true });
    expect(parseInvocation({ ...scheduled, dryRun: false })).to.deep.equal({ dryRun: false });
    expect(() => parseInvocation({ ...scheduled, dryRun: "ignored" })).to.throw(
      'Invalid invocation payload: dryRun = "ignored": must be a boolean',
    );
    expect(() => parseInvocation({ ...scheduled, detail: { dryRun: true } })).to.throw(
      "detail.dryRun: put dryRun at the top level",
    );
    expect(() => parseInvocation({ ...scheduled, force: true })).to.throw('unknown field "force"');
  });

  it("lists at most 10 problems, then how many more", () => {
    const payload = Object.fromEntries(Array.from({ length: 8000 }, (_, i) => [`k${i}`, i]));
    let message = "";
    try {
      parseInvocation(payload);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.match(/unknown field/g)).to.have.length(10);
    expect(message).to.match(/; and 7990 more$/);
    expect(message.length).to.be.below(1000);
  });

  it("cuts a huge value or key in the message", () => {
    const huge = "x".repeat(100_000);
    for (const payload of [{ dryRun: huge }, { [huge]: 1 }, [huge]]) {
      let message = "";
      try {
        parseInvocation(payload);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.match(/^Invalid invocation payload: /);
      expect(message.length).to.be.below(300);
    }
  });

  it("takes dryRun from a manual run, and nothing from an empty one", () => {
    expect(parseInvocation({ dryRun: true })).to.deep.equal({ dryRun: true });
    expect(parseInvocation({ dryRun: false })).to.deep.equal({ dryRun: false });
    expect(parseInvocation({})).to.deep.equal({});
    expect(parseInvocation(undefined)).to.deep.equal({});
    expect(parseInvocation(null)).to.deep.equal({});
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
