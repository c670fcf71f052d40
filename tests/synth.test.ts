import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readStackConfig } from "../local/stackConfig";
import { formatPlan, main, synth } from "../local/synth";

const ROOT = join(__dirname, "..");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: { write: (t: string) => out.push(t) }, err: { write: (t: string) => err.push(t) } },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

describe("npm run synth", () => {
  it("layers config as the CLI does: Pulumi.yaml defaults, then the stack file, then --config", () => {
    const config = readStackConfig({
      root: ROOT,
      stack: "dev",
      overrides: ["timeoutSeconds=600", "aws:region=eu-west-1"],
    });
    expect(config).to.deep.include({
      "ec2-backup-retention:memorySize": "1024",
      "ec2-backup-retention:schedule": "cron(0 2 * * ? *)",
      "ec2-backup-retention:timeoutSeconds": "600",
      "aws:region": "eu-west-1",
    });
    expect(() => readStackConfig({ root: ROOT, stack: "nope" })).to.throw(
      /no stack file .*Pulumi\.nope\.yaml/,
    );
    expect(() => readStackConfig({ root: ROOT, overrides: ["retentionDays"] })).to.throw(
      /expected key=value/,
    );
  });

  it("prints every resource with its key properties and the outputs", async () => {
    const result = await synth({ stack: "dev" });
    const plan = formatPlan(result, "dev");
    expect(plan).to.match(/^Plan for stack dev in us-east-1: 26 resources to create/);
    for (const expected of [
      "+ aws:iam/role:Role  tagger-us-east-1-role",
      '"ec2:CreateTags"',
      '"arn:aws:ec2:us-east-1::snapshot/*"',
      "scheduleExpression: cron(0 2 * * ? *)",
      "runtime: nodejs22.x",
      "memorySize: 1024",
      "timeout: 300",
      '"RETENTION_DAYS": "90"',
      "retentionInDays: 14",
      "functionName: TagEC2Backups",
      // The pinned SDK layer, and the function referencing it.
      "+ aws:lambda/layerVersion:LayerVersion  tagger-us-east-1-sdk-layer",
      'layers: [\n        "arn:aws:lambda:us-east-1:123456789012:layer:TagEC2Backups-aws-sdk:1"',
    ]) {
      expect(plan).to.include(expected);
    }
  });

  it("writes resources.json and exactly the archive's files with --out", async () => {
    const out = mkdtempSync(join(tmpdir(), "synth-"));
    try {
      const io = capture();
      expect(await main(["--stack", "dev", "--out", out], io.io)).to.equal(0);
      const resources = JSON.parse(readFileSync(join(out, "resources.json"), "utf8"));
      expect(resources).to.have.length(26);
      const fn = resources.find((r: { type: string }) => r.type === "aws:lambda/function:Function");
      const code = readFileSync(join(out, "lambda", "tagger-us-east-1-function", "__index.js"), "utf8");
      expect(fn.inputs.code).to.deep.include({ archive: ["__index.js"], bytes: Buffer.byteLength(code) });
      expect(fn.inputs.code.zippedBytes).to.be.within(1, Buffer.byteLength(code) / 2);
      expect(code).to.include("exports.handler = __createHandler();");
      expect(io.out()).to.include(`__index.js: ${Buffer.byteLength(code).toLocaleString("en-US")} bytes`);
      expect(io.out()).to.match(
        /tagger-us-east-1-function closure archive: [\d.]+ KB, [\d.]+ KB zipped \(budget 64\.0 KB zipped\)/,
      );
      expect(io.out()).to.match(
        /tagger-us-east-1-sdk-layer: [\d.]+ KB, [\d.]+ KB zipped \(budget 1024\.0 KB zipped\)/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("prints the errors pulumi preview would on bad --config values, exit 2 as for any bad flag, writing nothing", async () => {
    const out = join(tmpdir(), `synth-bad-${process.pid}`);
    const io = capture();
    const code = await main(
      ["--config", "retentionDays=0", "--config", "namePrefix=has space", "--out", out],
      io.io,
    );
    expect(code).to.equal(2);
    expect(io.err()).to.match(/^npm run synth failed: Invalid stack configuration \(2 problems\):/);
    expect(io.err()).to.include('ec2-backup-retention:retentionDays = "0"');
    expect(io.err()).to.include("usage: npm run synth");
    expect(existsSync(out)).to.be.false;
  });

  it("refuses an unknown aws:region or stack as a bad flag, exit 2, naming the closest regions", async () => {
    const region = capture();
    expect(await main(["--config", "aws:region=xx-fake-1"], region.io)).to.equal(2);
    expect(region.err()).to.match(/aws:region = "xx-fake-1": not a known AWS region; closest: /);
    expect(region.out()).to.equal("");
    const stack = capture();
    expect(await main(["--stack", "nosuch"], stack.io)).to.equal(2);
    expect(stack.err()).to.include('--stack "nosuch": no stack file');
  });

  it("leaves bad values in the stack file to the program: what preview prints, exit 1", async () => {
    const file = join(ROOT, `Pulumi.synthbad${process.pid}.yaml`);
    writeFileSync(file, 'config:\n  aws:region: us-east-1\n  ec2-backup-retention:retentionDays: "0"\n');
    try {
      const io = capture();
      expect(await main(["--stack", `synthbad${process.pid}`], io.io)).to.equal(1);
      expect(io.err()).to.match(/^npm run synth failed: Invalid stack configuration \(1 problem\):/);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it("refuses --config without key=value as a usage error, exit 2, like every bad flag", async () => {
    const io = capture();
    expect(await main(["--config", "retentionDays"], io.io)).to.equal(2);
    expect(io.err()).to.include('--config "retentionDays": expected key=value');
    expect(io.err()).to.include("usage: npm run synth");
  });

  it("refuses unknown flags with the usage", async () => {
    const io = capture();
    expect(await main(["--stak", "dev"], io.io)).to.equal(2);
    expect(io.err()).to.include("usage: npm run synth");
  });
});
