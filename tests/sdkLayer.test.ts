// The function runs the SDK the tests ran: a pinned, bundled layer, and nothing from the runtime.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { builtinModules } from "node:module";
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { deflateRawSync } from "node:zlib";
import {
  ORGANIZATION_SDK_SURFACE,
  SDK_SURFACE,
  buildSdkLayer,
  bundledPackageDirs,
  entrySource,
  lockfileMismatches,
  sdkLayerHash,
  unprovidedImports,
  type SdkSurface,
} from "../infra/sdkLayer";
import { findResource, lambdaArchive, loadStack, sdkLayerDir } from "../local/pulumiMocks";
import { BUDGETS } from "../local/synth";

/** The modules a serialized function requires that Node.js does not provide itself. */
function externalRequires(code: string): string[] {
  const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
  return required.filter((name) => !builtinModules.includes(name.replace(/^node:/, "")));
}

/** SDK package -> the names a serialized function reads from it, sorted. */
function sdkNamesUsed(code: string): Record<string, string[]> {
  const used: Record<string, Set<string>> = {};
  for (const [, variable, pkg] of code.matchAll(/const (\w+) = require\("(@aws-sdk\/[^/"]+)[^"]*"\)/g)) {
    const names = [...code.matchAll(new RegExp(`\\b${variable}\\.(\\w+)`, "g"))].map((m) => m[1]);
    used[pkg] = new Set([...(used[pkg] ?? []), ...names]);
  }
  return Object.fromEntries(Object.entries(used).map(([pkg, names]) => [pkg, [...names].sort()]));
}

/** What Pulumi hashes a directory archive by: each file's name and contents (never times or paths above it). */
function archiveDigest(dir: string): string {
  const hash = createHash("sha256");
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(at, entry.name)) : [join(at, entry.name)],
    );
  for (const file of walk(dir).sort()) {
    hash.update(`${relative(dir, file)}\0`).update(readFileSync(file));
  }
  return hash.digest("hex");
}

/** The layer and the function's reference to it, as `pulumi up` would be given them. */
async function layerInputs(): Promise<Record<string, unknown>> {
  await loadStack({ "aws:region": "eu-west-1" });
  const layer = findResource("aws:lambda/layerVersion:LayerVersion");
  const { code, ...rest } = layer.inputs;
  return {
    ...rest,
    code: archiveDigest((await code.path) as string),
    functionLayers: findResource("aws:lambda/function:Function").inputs.layers,
  };
}

const sorted = (surface: SdkSurface) =>
  Object.fromEntries(Object.entries(surface).map(([pkg, names]) => [pkg, [...names].sort()]));

describe("the pinned AWS SDK layer", () => {
  let code: string;
  let layerModules: string;

  before(async () => {
    await loadStack({ "aws:region": "eu-west-1" });
    code = (await lambdaArchive())["__index.js"];
    // Real path: require.resolve answers with one, and node_modules may be a link (a worktree's).
    layerModules = realpathSync(join(await sdkLayerDir(), "nodejs", "node_modules"));
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
    const external = externalRequires(code);
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
    expect(sdkNamesUsed(code)).to.deep.equal(sorted(SDK_SURFACE));
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

  it("gives an unchanged stack the same layer: two synths, the same inputs and archive contents", async () => {
    const first = await layerInputs();
    const second = await layerInputs();
    expect(second).to.deep.equal(first);
    expect(first.description).to.match(/content [0-9a-f]{16}\)$/);
  });

  it("builds the same bytes from scratch in any working directory, as a clean clone or CI does", function () {
    this.timeout(120_000);
    const cached = buildSdkLayer();
    const fresh = mkdtempSync(join(tmpdir(), "sdk-layer-"));
    const cwd = process.cwd();
    try {
      // The bundle once named its modules by their path from the working directory.
      process.chdir(fresh);
      const rebuilt = buildSdkLayer(undefined, SDK_SURFACE, fresh);
      expect(rebuilt.dir.startsWith(fresh)).to.be.true;
      expect(rebuilt.hash).to.equal(cached.hash);
      expect(archiveDigest(rebuilt.dir)).to.equal(archiveDigest(cached.dir));
    } finally {
      process.chdir(cwd);
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("refuses a bundle that leaves an SDK module to the runtime, or is not the locked version", () => {
    const metafile = {
      inputs: {
        "node_modules/@smithy/signature-v4/dist-es/index.js": {
          imports: [
            { path: "node:crypto", external: true },
            { path: "@aws-sdk/signature-v4-crt", external: true },
            { path: "node_modules/@smithy/util-hex-encoding/dist-es/index.js" },
          ],
        },
        "node_modules/@smithy/util-hex-encoding/dist-es/index.js": {
          imports: [{ path: "os", external: true }],
        },
        "../elsewhere/node_modules/@aws-sdk/core/node_modules/@smithy/core/dist-es/a.js": { imports: [] },
        "<stdin>": { imports: [] },
      },
    };
    expect(unprovidedImports(metafile)).to.deep.equal(["@aws-sdk/signature-v4-crt"]);
    expect(bundledPackageDirs(metafile)).to.deep.equal([
      "node_modules/@aws-sdk/core/node_modules/@smithy/core",
      "node_modules/@smithy/signature-v4",
      "node_modules/@smithy/util-hex-encoding",
    ]);
    const lockfile = {
      packages: {
        "node_modules/@smithy/signature-v4": { version: "5.3.0" },
        "node_modules/@smithy/util-hex-encoding": { version: "4.2.0" },
      },
    };
    expect(
      lockfileMismatches(lockfile, {
        "node_modules/@smithy/signature-v4": "5.3.0",
        "node_modules/@smithy/util-hex-encoding": "4.1.0",
        "node_modules/@smithy/core": "3.0.0",
      }),
    ).to.deep.equal([
      "node_modules/@smithy/util-hex-encoding is 4.1.0, package-lock.json pins 4.2.0",
      "node_modules/@smithy/core (3.0.0) is not in package-lock.json",
    ]);
  });

  it("makes a benchmark process load the layer's clients, and refuse one the layer lacks", () => {
    const run = (request: string) =>
      spawnSync(
        process.execPath,
        [
          "-r",
          join(__dirname, "..", "local", "useLayer.js"),
          "-e",
          `console.log(require.resolve("${request}"))`,
        ],
        { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, SDK_LAYER_DIR: buildSdkLayer().dir } },
      );
    const ec2 = run("@aws-sdk/client-ec2");
    expect(ec2.status, ec2.stderr).to.equal(0);
    expect(ec2.stdout.trim().startsWith(layerModules)).to.be.true;
    // Installed in node_modules, which the layer's directory sits under, but not in this layer.
    const sqs = run("@aws-sdk/client-sqs");
    expect(sqs.status).not.to.equal(0);
    expect(sqs.stderr).to.include("@aws-sdk/client-sqs: not in the function's SDK layer");
  });

  it("bundles from each package's ES module build, re-exporting the surface only", () => {
    expect(entrySource({ "@aws-sdk/client-sns": ["SNSClient", "PublishCommand"] })).to.equal(
      'export { SNSClient, PublishCommand } from "@aws-sdk/client-sns";',
    );
  });
});

describe("organization mode's pinned AWS SDK layer", () => {
  const FUNCTIONS = ["organization-dispatcher", "organization-worker"];
  const code: Record<string, string> = {};
  let layerModules: string;

  before(async () => {
    await loadStack({ "aws:region": "us-east-1", organization: "true", organizationUnits: '["r-ab12"]' });
    for (const name of FUNCTIONS) {
      code[name] = (await lambdaArchive(name))["__index.js"];
    }
    layerModules = realpathSync(join(await sdkLayerDir("organization-sdk-layer"), "nodejs", "node_modules"));
  });

  it("provides every module either function requires, and neither requires anything else", () => {
    for (const name of FUNCTIONS) {
      const external = externalRequires(code[name]);
      expect(external.length, name).to.be.greaterThan(0);
      for (const module of external) {
        expect(module, `${name}: ${module}`).to.match(/^@aws-sdk\//);
        const resolved = require.resolve(module, { paths: [layerModules] });
        expect(resolved.startsWith(layerModules), `${name}: ${module} -> ${resolved}`).to.be.true;
      }
    }
  });

  it("exports what the dispatcher and the worker use between them, and nothing more", () => {
    const union: Record<string, string[]> = {};
    for (const name of FUNCTIONS) {
      for (const [pkg, names] of Object.entries(sdkNamesUsed(code[name]))) {
        union[pkg] = [...new Set([...(union[pkg] ?? []), ...names])].sort();
      }
    }
    expect(union).to.deep.equal(sorted(ORGANIZATION_SDK_SURFACE));
    // The dispatcher loads only Organizations and SQS; the worker never loads them.
    expect(Object.keys(sdkNamesUsed(code["organization-dispatcher"])).sort()).to.deep.equal([
      "@aws-sdk/client-organizations",
      "@aws-sdk/client-sqs",
    ]);
    for (const [pkg, names] of Object.entries(ORGANIZATION_SDK_SURFACE)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const sdk = require(require.resolve(`${pkg}/dist-cjs/index.js`, { paths: [layerModules] }));
      for (const name of names) {
        expect(sdk[name], `${pkg}.${name}`).not.to.equal(undefined);
      }
    }
  });

  it("keeps the budgets, and leaves the single-account layer as it was", () => {
    const built = buildSdkLayer(undefined, ORGANIZATION_SDK_SURFACE);
    for (const name of FUNCTIONS) {
      expect(deflateRawSync(Buffer.from(code[name])).length, name).to.be.below(BUDGETS.archiveZippedBytes);
    }
    expect(built.zippedBytes).to.be.below(BUDGETS.layerZippedBytes);
    const single = buildSdkLayer();
    expect(single.dir).not.to.equal(built.dir);
    expect(single.hash).to.equal(buildSdkLayer(undefined, SDK_SURFACE).hash);
    expect(Object.keys(SDK_SURFACE).sort()).to.deep.equal([
      "@aws-sdk/client-dynamodb",
      "@aws-sdk/client-ec2",
      "@aws-sdk/client-sns",
    ]);
  });
});
