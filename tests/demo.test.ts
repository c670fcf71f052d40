import { expect } from "chai";
import { INSTALL_HINT, motoInstalled } from "../local/motoServer";
import { formatTagTable, parseDemoArgs, runDemo, type DemoHost } from "../local/demo";
import { chooseEmulator } from "../local/emulators";
import { startEmbedded } from "../local/emulator/server";

/** A machine without Python's moto, as a new user's may be. */
const noMoto: DemoHost = { motoInstalled: () => false };

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: { write: (t: string) => out.push(t) }, err: { write: (t: string) => err.push(t) } },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

/** What every demo run shows, whichever emulator serves it. */
function expectDemoRun(text: string): void {
  expect(text).to.match(/resource\s+Name\s+Retention\s+DeleteOn\s+ManagedBy\s+Proof/);
  expect(text).to.match(/legal-hold \(tagged by hand\)\s+keep\s+-\s+-\s+none/);
  // Re-anchored from tags the function never wrote: dated, but never deletable.
  expect(text).to.match(
    /logs-archive \(tagged under 30 days\)\s+30days -> 90days\s+2026-12-10 -> 2027-02-08\s+- -> ec2-backup-retention\s+none/,
  );
  expect(text).to.match(
    /terraform-managed \(own ManagedBy tag\)\s+- -> 90days\s+- -> \d{4}-\d{2}-\d{2}\s+terraform\s+ledger$/m,
  );
  // Two AMIs, their two backing snapshots and four untagged or foreign-tagged ones of six.
  expect(text).to.include('"message": "Successfully tagged 2 AMIs and 6 snapshots"');
  expect(text).to.include('"statusCode": 200');
  expect(text).to.include(
    "Second run: Successfully tagged 0 AMIs and 0 snapshots; planned writes: 0; tags unchanged.",
  );
}

describe("npm run demo", function () {
  this.timeout(240_000);

  it("runs the serialized Lambda on the embedded emulator when moto is absent, and says so first", async () => {
    const run = capture();
    const code = await runDemo([], run.io, noMoto);
    expect(code, run.err()).to.equal(0);
    expect(run.out().split("\n")[0]).to.match(
      /^Started the EC2 emulator: embedded \(this project's own, Node\.js only; moto is not installed\) at http:\/\/127\.0\.0\.1:\d+$/,
    );
    expectDemoRun(run.out());
  });

  it("runs on moto when it is installed, and says so first", async function () {
    if (!motoInstalled()) {
      if (process.env.CI === "true") {
        throw new Error(`${INSTALL_HINT}; CI must run the demo on moto`);
      }
      this.skip();
    }
    const run = capture();
    const code = await runDemo([], run.io);
    expect(code, run.err()).to.equal(0);
    expect(run.out().split("\n")[0]).to.match(
      /^Started the EC2 emulator: moto \(Python's moto is installed\) at /,
    );
    expectDemoRun(run.out());
  });

  it("uses --endpoint over --emulator, and says which endpoint serves", async () => {
    const elsewhere = await startEmbedded();
    try {
      const run = capture();
      const code = await runDemo(["--emulator", "moto", "--endpoint", elsewhere.endpoint], run.io, noMoto);
      expect(code, run.err()).to.equal(0);
      expect(run.out().split("\n")[0]).to.equal(
        `Using the EC2 endpoint ${elsewhere.endpoint} (--endpoint; --emulator moto ignored)`,
      );
      // The run happened there: the account it seeded and tagged is that endpoint's.
      expect(elsewhere.account.calls.CreateTags).to.be.greaterThan(0);
    } finally {
      await elsewhere.stop();
    }
  });

  it("refuses a bad flag with exit 2 and the usage, naming the flag, the value and what is allowed", async () => {
    const cases: [string[], string][] = [
      [["--bogus"], "Unknown option '--bogus'"],
      [["--emulator", "localstack"], '--emulator "localstack": must be one of moto, embedded'],
      [["--endpoint", "localhost:4566"], '--endpoint "localhost:4566": must be an http(s) URL'],
    ];
    for (const [argv, message] of cases) {
      const run = capture();
      let asked = false;
      const started = Date.now();
      const code = await runDemo(argv, run.io, { motoInstalled: () => (asked = true) });
      expect(code, argv.join(" ")).to.equal(2);
      expect(run.err(), argv.join(" ")).to.include(message);
      expect(run.err(), argv.join(" ")).to.include("usage: npm run demo");
      // Nothing started, not even Python to look for moto.
      expect([asked, run.out()], argv.join(" ")).to.deep.equal([false, ""]);
      expect(Date.now() - started).to.be.below(2_000);
    }
  });

  it("says how to get moto, or to leave --emulator moto out, when moto is asked for but missing", async () => {
    const run = capture();
    expect(await runDemo(["--emulator", "moto"], run.io, noMoto)).to.equal(1);
    expect(run.err()).to.include(INSTALL_HINT);
    expect(run.err()).to.include("leave out --emulator moto");
    expect(run.out()).to.equal("");
  });

  it("reads --emulator and --endpoint", () => {
    expect(parseDemoArgs(["--emulator", "embedded", "--endpoint", "http://127.0.0.1:5000"])).to.deep.equal({
      emulator: "embedded",
      endpoint: "http://127.0.0.1:5000",
    });
  });

  it("chooses the emulator asked for without looking for moto, else moto when present, else embedded", () => {
    const lookedFor: string[] = [];
    const present = () => {
      lookedFor.push("moto");
      return true;
    };
    expect(chooseEmulator("embedded", present).name).to.equal("embedded");
    expect(chooseEmulator("moto", () => false).name).to.equal("moto");
    expect(lookedFor).to.deep.equal([]);
    expect(chooseEmulator(undefined, present).name).to.equal("moto");
    expect(chooseEmulator(undefined, () => false)).to.deep.equal({
      name: "embedded",
      why: "this project's own, Node.js only; moto is not installed",
    });
  });

  it("marks only what changed in the table", () => {
    const table = formatTagTable(
      { "snap-1": { Name: "a" } },
      { "snap-1": { Name: "a", Retention: "90days" } },
    );
    expect(table.split("\n")[2]).to.match(/^snap-1\s+a\s+- -> 90days\s+-\s+-\s+none$/);
  });
});
