import { expect } from "chai";
import { INSTALL_HINT, motoInstalled, startMoto, type Emulator } from "../local/motoServer";
import { createLedgerTable, ledgerEntries } from "../local/ledgerTable";
import { createSnapshot, emulatorClient, tagsById } from "../local/seedAccount";
import { main, parseOptions } from "../local/tagCommand";

const env = { AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

function capture(environment: Record<string, string> = env) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      out: { write: (t: string) => out.push(t) },
      err: { write: (t: string) => err.push(t) },
      env: environment,
    },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("npm run tag", () => {
  it("reads its flags, with the region from the environment when not given", () => {
    expect(
      parseOptions(["--retention-days", "30", "--dry-run", "--extra-tags", '{"Owner":"infra"}'], {
        AWS_REGION: "eu-west-1",
      }),
    ).to.deep.equal({
      region: "eu-west-1",
      retentionDays: 30,
      extraTags: { Owner: "infra" },
      dryRun: true,
      json: false,
      endpoint: undefined,
      ledgerTable: undefined,
      timeoutSeconds: undefined,
    });
    expect(
      parseOptions(["--ledger-table", "TagEC2Backups-ledger"], { AWS_REGION: "eu-west-1" }),
    ).to.deep.include({
      ledgerTable: "TagEC2Backups-ledger",
    });
  });

  it("refuses bad flags with a usage error that names the flag and the value", () => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /Unknown option '--bogus'/],
      [["--retention-days", "0"], /--retention-days "0": must be an integer from 1 to 36500/],
      [["--retention-days", "ninety"], /--retention-days "ninety"/],
      [["--extra-tags", '{"Retention":"x"}'], /--extra-tags .*written by the tagger itself/],
      [["--endpoint", "localhost:4566"], /--endpoint "localhost:4566": must be an http\(s\) URL/],
      [["--ledger-table", "a b"], /--ledger-table "a b": must be a DynamoDB table name/],
      [["--region", "nowhere"], /--region "nowhere": not a known AWS region; closest: /],
      [["--timeout", "5"], /--timeout "5": must be a whole number of seconds from 10 to 86400/],
      [[], /no region: pass --region or set AWS_REGION/],
    ];
    for (const [argv, message] of cases) {
      const result = parseOptions(argv, argv.length === 0 ? {} : { AWS_REGION: "us-east-1" });
      expect(result, argv.join(" ")).to.have.property("errors");
      expect((result as { errors: string[] }).errors.join("\n"), argv.join(" ")).to.match(message);
    }
  });

  it("refuses an unknown region at once, exit 2, before any network contact", async () => {
    const run = capture();
    const started = Date.now();
    // With a real region this would reach the network (or fail slowly without credentials).
    expect(await main(["--region", "nowhere"], run.io)).to.equal(2);
    expect(Date.now() - started).to.be.below(2_000);
    expect(run.err()).to.include('--region "nowhere": not a known AWS region');
  });

  it("exits 2 on bad flags and contacts nothing", async () => {
    const run = capture();
    // An endpoint nobody listens on: any request would fail the run with another code.
    const code = await main(
      ["--region", "us-east-1", "--endpoint", "http://127.0.0.1:9", "--retention-days", "-1"],
      run.io,
    );
    expect(code).to.equal(2);
    expect(run.out()).to.equal("");
    expect(run.err()).to.include("usage: npm run tag");
  });

  it("takes --endpoint embedded without a region, and refuses any other endpoint that is not a URL", () => {
    expect(parseOptions(["--endpoint", "embedded"], {})).to.deep.include({
      endpoint: "embedded",
      region: "us-east-1",
    });
    expect(parseOptions(["--endpoint", "embeded"], { AWS_REGION: "us-east-1" })).to.deep.equal({
      errors: ['--endpoint "embeded": must be an http(s) URL, or embedded'],
    });
  });

  describe("--endpoint embedded: the demo's account, with no AWS account or Python", function () {
    this.timeout(60_000);

    it("tags the demo's account and says first which emulator serves", async () => {
      // No region, no credentials: nothing in the environment at all.
      const run = capture({});
      expect(await main(["--endpoint", "embedded"], run.io)).to.equal(0);
      expect(run.err()).to.match(
        /^EC2 emulator: embedded \(this project's own, in this process\) at http:\/\/127\.0\.0\.1:\d+/,
      );
      expect(run.out()).to.match(/tagged\s+2\s+6/);
      expect(run.out()).to.include("Successfully tagged 2 AMIs and 6 snapshots");
    });

    it("--json prints exactly the Lambda's response on stdout and only JSON lines on stderr", async () => {
      const run = capture({});
      expect(await main(["--endpoint", "embedded", "--json", "--dry-run"], run.io)).to.equal(0);
      expect(JSON.parse(run.out())).to.deep.include({ dry_run: true, amis_planned: 2, snapshots_planned: 6 });
      const logs = run
        .err()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(logs[0].message).to.match(/^EC2 emulator: embedded/);
    });
  });

  describe("against the EC2 emulator", function () {
    this.timeout(60_000);
    let emulator: Emulator;

    before(async function () {
      if (!motoInstalled()) {
        if (process.env.CI === "true") {
          throw new Error(INSTALL_HINT);
        }
        this.skip();
      }
      emulator = await startMoto();
    });

    // The runner uses the standard credential chain; here that is the environment.
    const saved = { ...process.env };
    beforeEach(() => Object.assign(process.env, env));
    afterEach(() => {
      process.env = { ...saved };
    });

    after(async () => emulator?.stop());

    beforeEach(async () => emulator.reset());

    it("--json prints exactly the Lambda's response on stdout and JSON logs on stderr", async () => {
      const ec2 = emulatorClient(emulator.endpoint);
      await createSnapshot(ec2);
      await createSnapshot(ec2, { Retention: "keep" });
      const run = capture();
      const code = await main(["--region", "us-east-1", "--endpoint", emulator.endpoint, "--json"], run.io);
      expect(code).to.equal(0);
      const response = JSON.parse(run.out());
      expect(Object.keys(response).slice(0, 6)).to.deep.equal([
        "statusCode",
        "message",
        "amis_tagged",
        "snapshots_tagged",
        "retention_days",
        "delete_on",
      ]);
      expect(response).to.deep.include({
        statusCode: 200,
        snapshots_tagged: 1,
        snapshots_skipped: 1,
        complete: true,
      });
      const logLines = run
        .err()
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(logLines.some((l) => l.message === "tagged batch")).to.be.true;
    });

    it("records what it dates in the ledger given --ledger-table, and says plainly when it cannot", async () => {
      const ec2 = emulatorClient(emulator.endpoint);
      const recorded = await createSnapshot(ec2);
      await createLedgerTable(emulator.endpoint, "TagEC2Backups-ledger");
      const withLedger = capture();
      const args = ["--region", "us-east-1", "--endpoint", emulator.endpoint];
      expect(await main([...args, "--ledger-table", "TagEC2Backups-ledger"], withLedger.io)).to.equal(0);
      const batch = (await tagsById(ec2))[recorded].RetentionBatch;
      expect((await ledgerEntries(emulator.endpoint, "TagEC2Backups-ledger"))[batch].ids).to.deep.equal([
        recorded,
      ]);
      expect(withLedger.err()).not.to.include("No --ledger-table");

      const unrecorded = await createSnapshot(ec2);
      const without = capture();
      expect(await main(args, without.io)).to.equal(0);
      expect(without.err()).to.include("No --ledger-table: backups this run dates carry no proof");
      expect((await tagsById(ec2))[unrecorded]).not.to.have.property("RetentionBatch");
    });

    it("--timeout stops as the Lambda would against a stalled endpoint, and labels failures by what ran", async () => {
      const { startProxy } = await import("./support/ec2Proxy");
      const proxy = await startProxy(emulator.endpoint, { intercept: () => "stall" });
      try {
        const run = capture();
        const started = Date.now();
        const code = await main(
          ["--region", "us-east-1", "--endpoint", proxy.endpoint, "--timeout", "10", "--json"],
          run.io,
        );
        expect(Date.now() - started).to.be.below(10_000);
        expect(code).to.equal(1);
        const response = JSON.parse(run.out());
        expect(response).to.deep.include({ complete: false });
        expect(response.stop_reason).to.match(/^(time|timeout)/);
      } finally {
        await proxy.close();
      }
      // A failure that is not about time: labelled by the command, not as a Lambda's.
      const denied = await startProxy(emulator.endpoint, {
        intercept: () => ({
          status: 403,
          body: '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r</RequestID></Response>',
        }),
      });
      try {
        const run = capture();
        expect(await main(["--region", "us-east-1", "--endpoint", denied.endpoint], run.io)).to.equal(1);
        expect(run.err()).to.include("npm run tag failed: UnauthorizedOperation: You are not authorized");
        expect(run.err()).not.to.include("Error in lambda execution");
      } finally {
        await denied.close();
      }
    });

    it("shows progress and a summary table, and --dry-run writes nothing", async () => {
      const ec2 = emulatorClient(emulator.endpoint);
      await createSnapshot(ec2);
      const before = await tagsById(ec2);
      const run = capture();
      const code = await main(
        ["--region", "us-east-1", "--endpoint", emulator.endpoint, "--dry-run"],
        run.io,
      );
      expect(code).to.equal(0);
      expect(run.err()).to.match(/snapshots: 1 pages, 1 listed, 1 to tag/);
      expect(run.out()).to.match(/would tag\s+0\s+1/);
      expect(run.out()).to.include("Dry run: would tag 0 AMIs and 1 snapshots");
      expect(await tagsById(ec2)).to.deep.equal(before);
    });
  });
});
