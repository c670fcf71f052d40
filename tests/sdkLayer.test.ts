// The function runs the SDK the tests ran: a pinned, bundled layer, and nothing from the runtime.
import { expect } from "chai";
import { builtinModules } from "node:module";
import { statSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { SDK_SURFACE, buildSdkLayer, entrySource, sdkLayerHash } from "../infra/sdkLayer";
import { findResource, lambdaArchive, loadStack, sdkLayerDir } from "../local/pulumiMocks";
import { BUDGETS } from "../local/synth";

describe("the pinned AWS SDK layer", () => {
  let code: string;
  let layerModules: string;

  before(async () => {
    await loadStack({ "aws:region": "eu-west-1" });
    code = (await lambdaArchive())["__index.js"];
    layerModules = join(await sdkLayerDir(), "nodejs", "node_modules");
  });

  it("is a layer for nodejs22.x that the function lists, with the SDK under nodejs/node_modules", () => {
    const layer = findResource("aws:lambda/layerVersion:LayerVersion");
    expect(layer.inputs).to.deep.include({
      layerName: "TagEC2Backups-aws-sdk",
      compatibleRuntimes: ["nodejs22.x"],
    });
    const fn = findResource("aws:lambda/function:Function");
    expect(fn.inputs.layers).to.deep.equal([
      "arn:aws:lambda:eu-west-1:123456789012:layer:TagEC2Backups-aws-sdk:1",
    ]);
    expect(statSync(join(layerModules, "@aws-sdk", "client-ec2", "dist-cjs", "index.js")).isFile()).to.be
      .true;
  });

  it("provides every module the serialized function requires, and the function requires nothing else", () => {
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    const external = required.filter((name) => !builtinModules.includes(name.replace(/^node:/, "")));
    expect(external.length).to.be.greaterThan(0);
    for (const name of external) {
      expect(name, name).to.match(/^@aws-sdk\//);
      // Resolved from the layer alone, as /opt/nodejs/node_modules would answer in Lambda.
      const resolved = require.resolve(name, { paths: [layerModules] });
      expect(resolved.startsWith(layerModules), `${name} -> ${resolved}`).to.be.true;
    }
    expect(required.some((name) => name.startsWith("@smithy/"))).to.be.false;
  });

  it("exports every SDK name the serialized function uses, and the surface lists exactly those", () => {
    const moduleVars = [...code.matchAll(/const (\w+) = require\("(@aws-sdk\/[^/"]+)[^"]*"\)/g)];
    const used: Record<string, Set<string>> = {};
    for (const [, variable, pkg] of moduleVars) {
      const names = [...code.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, "g"))].map((m) => m[1]);
      used[pkg] = new Set([...(used[pkg] ?? []), ...names]);
    }
    expect(
      Object.fromEntries(Object.entries(used).map(([pkg, names]) => [pkg, [...names].sort()])),
    ).to.deep.equal(
      Object.fromEntries(Object.entries(SDK_SURFACE).map(([pkg, names]) => [pkg, [...names].sort()])),
    );
    for (const [pkg, names] of Object.entries(SDK_SURFACE)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sdk = require(require.resolve(`${pkg}/dist-cjs/index.js`, { paths: [layerModules] }));
      for (const name of names) {
        expect(sdk[name], `${pkg}.${name}`).not.to.equal(undefined);
      }
    }
  });

  it("keeps both budgets: the closure archive at most 64 KB zipped, the layer at most 1 MB zipped", () => {
    const built = buildSdkLayer();
    expect(deflateRawSync(Buffer.from(code)).length).to.be.below(BUDGETS.archiveZippedBytes);
    expect(built.zippedBytes).to.be.below(BUDGETS.layerZippedBytes);
    expect(built.bytes).to.be.greaterThan(built.zippedBytes);
  });

  it("is rebuilt only when the lockfile, the surface or the build changes", () => {
    const first = buildSdkLayer();
    const built = statSync(
      join(first.dir, "nodejs", "node_modules", "ec2-backup-retention-aws-sdk", "index.js"),
    ).mtimeMs;
    const again = buildSdkLayer();
    expect(again.dir).to.equal(first.dir);
    expect(
      statSync(join(again.dir, "nodejs", "node_modules", "ec2-backup-retention-aws-sdk", "index.js")).mtimeMs,
    ).to.equal(built);
    const lock = '{"lockfileVersion":3}';
    expect(sdkLayerHash(lock, SDK_SURFACE, "0.25.12")).to.equal(sdkLayerHash(lock, SDK_SURFACE, "0.25.12"));
    expect(sdkLayerHash(`${lock} `, SDK_SURFACE, "0.25.12")).not.to.equal(
      sdkLayerHash(lock, SDK_SURFACE, "0.25.12"),
    );
    const more = {
      ...SDK_SURFACE,
      "@aws-sdk/client-sns": [...SDK_SURFACE["@aws-sdk/client-sns"], "ListTopicsCommand"],
    };
    expect(sdkLayerHash(lock, more, "0.25.12")).not.to.equal(sdkLayerHash(lock, SDK_SURFACE, "0.25.12"));
    expect(sdkLayerHash(lock, SDK_SURFACE, "0.26.0")).not.to.equal(
      sdkLayerHash(lock, SDK_SURFACE, "0.25.12"),
    );
  });

  it("bundles from each package's ES module build, re-exporting the surface only", () => {
    expect(entrySource({ "@aws-sdk/client-sns": ["SNSClient", "PublishCommand"] })).to.equal(
      'export { SNSClient, PublishCommand } from "@aws-sdk/client-sns";',
    );
  });
});
