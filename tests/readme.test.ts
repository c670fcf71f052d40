// The README is the front door: it opens with how to try the project, stays short, and points to
// the reference in docs/ (tests/docs.test.ts keeps that reference true).
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { EXPIRY_LIMITS } from "../handler/settings";
import { DEFAULTS } from "../infra/config";
import { RECYCLE_BIN_DAYS } from "../infra/scopeConfig";
import { ATTEMPT_TIMEOUT_MS, MAX_ATTEMPTS } from "../handler/awsClients";
import { stopReason } from "../handler/errors";

const root = join(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, heading).to.be.greaterThan(-1);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe("README", () => {
  it("opens with how to try it locally: npm ci, the demo, npm test", () => {
    const firstSection = readme.slice(readme.indexOf("\n## ")).split("\n")[1];
    expect(firstSection).to.equal("## Try it locally");
    const tryIt = section("Try it locally");
    for (const command of ["npm ci", "npm run demo", "npm test", "npm run synth", "npm run tag"]) {
      expect(tryIt, command).to.include(command);
    }
  });

  it("says in Troubleshooting what a timed-out call and a throttled run look like, in the code's words", () => {
    const troubleshooting = section("Troubleshooting");
    const timedOut = stopReason(
      Object.assign(new Error("the attempt got no answer within 5000 ms"), { name: "TimeoutError" }),
    );
    const throttled = stopReason(
      Object.assign(new Error("Request limit exceeded."), { name: "RequestLimitExceeded" }),
    );
    expect(timedOut).to.match(/^timeout: /);
    expect(throttled).to.match(/^throttled: /);
    for (const text of [
      `"stop_reason": "${timedOut}"`,
      `"stop_reason": "${throttled}"`,
      '"complete": false',
      `within ${ATTEMPT_TIMEOUT_MS / 1000} s fails as a \`TimeoutError\``,
      `(${MAX_ATTEMPTS} attempts`,
      "](docs/troubleshooting.md)",
    ]) {
      expect(troubleshooting.replace(/\s+/g, " "), text).to.include(text);
    }
  });

  it("quotes only benchmark figures BENCHMARKS.md carries", () => {
    const benchmarks = readFileSync(join(root, "BENCHMARKS.md"), "utf8");
    // Figures with a thousands comma or a decimal point (ratios, "1.06x", are computed from them).
    const figures = section("Benchmarks").match(/\d{1,3}(?:,\d{3})+|\d+\.\d+(?!\d*x)/g) ?? [];
    expect(figures.length).to.be.greaterThan(5);
    for (const figure of figures) {
      expect(benchmarks, figure).to.match(
        new RegExp(`(?<![\\d.,])${figure.replace(/[.]/g, "\\.")}(?![\\d,]|\\.\\d)`),
      );
    }
  });

  it("is at most 12 KB", () => {
    expect(Buffer.byteLength(readme)).to.be.at.most(12_288);
  });

  it("links to every file in docs/ and to BENCHMARKS.md", () => {
    const files = readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md"));
    expect(files).to.include.members(["configuration.md", "operations.md", "iam.md", "expiry.md"]);
    for (const name of [...files.map((f) => `docs/${f}`), "BENCHMARKS.md"]) {
      expect(readme, name).to.include(`](${name})`);
    }
  });

  describe("the expiry section", () => {
    const expiry = () => section("Expiry: what is deleted, and how to undo it");

    it("says what proves authorship, what is never deleted, how to adopt older tags and how to restore", () => {
      const text = expiry();
      for (const claim of [
        // Authorship: the ledger only the role writes, the batch tag, the exact match.
        "only the function's role can write",
        "`RetentionBatch=<id>`",
        "exactly its current `Retention` and `DeleteOn`",
        "never deletable",
        // Never deleted, and how it is counted.
        "`amis_unproven` / `snapshots_unproven`",
        "up to 10 examples",
        "1970-01-01 to 9999-12-31",
        "disabled and deprecated",
        "200 at a time",
        '`{"dryRun": true}` in any payload',
        // Adoption is explicit and temporary.
        "pulumi config set adoptUnprovenTags true",
        // Restoring, snapshots before their AMI.
        "aws ec2 restore-snapshot-from-recycle-bin",
        "aws ec2 restore-image-from-recycle-bin",
        "An AMI needs",
        "restore the snapshots behind it",
        "first, then the AMI",
      ]) {
        expect(text.replace(/\s+/g, " "), claim).to.include(claim);
      }
    });

    it("tables the expiry keys with the program's defaults and ranges", () => {
      const text = expiry();
      const row = (key: keyof typeof DEFAULTS, allowed: string) =>
        expect(text, key).to.match(
          new RegExp(`^\\| \`${key}\` +\\| \`${String(DEFAULTS[key])}\` +\\| ${allowed}`, "m"),
        );
      row("expire", "`true` / `false`");
      row("expireGraceDays", `integer ${EXPIRY_LIMITS.graceDays.join(" to ")}`);
      row("maxDeletionsPerRun", `integer ${EXPIRY_LIMITS.maxDeletions.join(" to ")}`);
      row("expireNoticeDays", `integer ${EXPIRY_LIMITS.noticeDays.join(" to ")}`);
      row("adoptUnprovenTags", "`true` / `false`");
      row("recycleBinDays", `integer 0 to ${RECYCLE_BIN_DAYS[1]}; 0 creates no rules`);
      expect(DEFAULTS).to.deep.include({ adoptUnprovenTags: false, recycleBinDays: 7, expireNoticeDays: 7 });
    });
  });
});
