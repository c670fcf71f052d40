import { expect } from "chai";
import { motoInstalled } from "../local/motoServer";
import { formatTagTable, runDemo } from "../local/demo";

describe("npm run demo", function () {
  this.timeout(120_000);

  it("shows the tags before and after, the response, and a second run that rewrites nothing", async function () {
    if (!motoInstalled()) {
      if (process.env.CI === "true") {
        throw new Error("moto is missing; CI must run the demo");
      }
      this.skip();
    }
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDemo([], {
      out: { write: (t: string) => out.push(t) },
      err: { write: (t: string) => err.push(t) },
    });
    const text = out.join("");
    expect(code, err.join("")).to.equal(0);
    expect(text).to.match(/resource\s+Name\s+Retention\s+DeleteOn\s+ManagedBy\s+Proof/);
    expect(text).to.match(/legal-hold \(tagged by hand\)\s+keep\s+-\s+-\s+none/);
    // Re-anchored from tags the function never wrote: dated, but never deletable.
    expect(text).to.match(
      /logs-archive \(tagged under 30 days\)\s+30days -> 90days\s+2026-12-10 -> 2027-02-08\s+- -> ec2-backup-retention\s+none/,
    );
    expect(text).to.match(
      /terraform-managed \(own ManagedBy tag\)\s+- -> 90days\s+- -> \d{4}-\d{2}-\d{2}\s+terraform\s+ledger$/m,
    );
    expect(text).to.include('"statusCode": 200');
    expect(text).to.include(
      "Second run: Successfully tagged 0 AMIs and 0 snapshots; planned writes: 0; tags unchanged.",
    );
  });

  it("says how to get the emulator, or use an endpoint, when it is missing", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runDemo(["--bogus"], {
      out: { write: (t: string) => out.push(t) },
      err: { write: (t: string) => err.push(t) },
    });
    expect(code).to.equal(2);
    expect(err.join("")).to.include("usage: npm run demo");
  });

  it("marks only what changed in the table", () => {
    const table = formatTagTable(
      { "snap-1": { Name: "a" } },
      { "snap-1": { Name: "a", Retention: "90days" } },
    );
    expect(table.split("\n")[2]).to.match(/^snap-1\s+a\s+- -> 90days\s+-\s+-\s+none$/);
  });
});
