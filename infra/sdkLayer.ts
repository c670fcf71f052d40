// The AWS SDK the function runs, pinned: an esbuild bundle of exactly the clients, commands and
// paginators the handler uses, at the versions in package-lock.json, shipped as a Lambda layer.
// Why the layer's copy wins: Lambda extracts a layer's nodejs/node_modules to /opt/nodejs/node_modules
// ("Working with layers for Node.js Lambda functions", "Layer paths for each Lambda runtime"), and
// the Node.js runtimes set NODE_PATH to /opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:
// $LAMBDA_RUNTIME_DIR/node_modules ("Defined runtime environment variables",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
// the runtime's own SDK being in $LAMBDA_RUNTIME_DIR/node_modules (/var/runtime/node_modules). The
// archive in /var/task has no node_modules, so Node.js falls through to NODE_PATH in that order and
// the serialized closure's require("@aws-sdk/client-ec2/dist-cjs/index.js") finds the layer first.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { ROOT } from "./projectRoot";

/** SDK package -> the names a layer re-exports from it. */
export type SdkSurface = Readonly<Record<string, readonly string[]>>;

/** What the handler uses of each SDK package; a test checks the serialized function against it. */
export const SDK_SURFACE: SdkSurface = {
  "@aws-sdk/client-ec2": [
    "EC2Client",
    "CreateTagsCommand",
    "DeleteSnapshotCommand",
    "DeregisterImageCommand",
    "DescribeImagesCommand",
    "DescribeSnapshotsCommand",
    "paginateDescribeImages",
    "paginateDescribeSnapshots",
  ],
  "@aws-sdk/client-dynamodb": ["DynamoDBClient", "BatchGetItemCommand", "GetItemCommand", "PutItemCommand"],
  "@aws-sdk/client-sns": ["SNSClient", "PublishCommand"],
};

/**
 * Organization mode's one layer, shared by its dispatcher and worker: the worker runs the tagger
 * core (so everything above) and assumes member roles with STS; the dispatcher lists the
 * organization and queues targets with SQS. A layer of its own rather than these three clients
 * added to SDK_SURFACE: the single-account function would load code it never calls at every cold
 * start, and its layer (content-keyed by its surface) would be republished for nothing. One layer
 * for both functions rather than one each: a single resource and bundle, well inside the budget,
 * and each function requires only the packages it uses (a test checks both archives against it).
 */
export const ORGANIZATION_SDK_SURFACE: SdkSurface = {
  ...SDK_SURFACE,
  "@aws-sdk/client-organizations": [
    "OrganizationsClient",
    "DescribeOrganizationCommand",
    "paginateListAccountsForParent",
    "paginateListOrganizationalUnitsForParent",
  ],
  "@aws-sdk/client-sqs": ["SQSClient", "SendMessageBatchCommand"],
  "@aws-sdk/client-sts": ["STSClient", "AssumeRoleCommand"],
};

/** The single bundle every SDK package of the layer points to, so shared code is loaded once. */
const BUNDLE = "ec2-backup-retention-aws-sdk";
/** Bumped when the way the layer is built changes, so a new build never reuses an old cache. */
const BUILD_RECIPE = 1;

export interface BuiltLayer {
  /** The directory whose contents are the layer (it holds nodejs/node_modules/...). */
  dir: string;
  /** Content key: the lockfile, the surface, esbuild and the recipe. */
  hash: string;
  /** The module paths the layer answers, e.g. "@aws-sdk/client-ec2/dist-cjs/index.js". */
  modules: string[];
  /** Bytes of the bundle, and of the bundle deflated as a zip stores it. */
  bytes: number;
  zippedBytes: number;
}

function esbuildVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("esbuild") as { version: string }).version;
}

/** Changes exactly when the layer's content can: the lockfile, the surface or the build. */
export function sdkLayerHash(
  lockfileText: string,
  surface: SdkSurface = SDK_SURFACE,
  esbuild = esbuildVersion(),
): string {
  return createHash("sha256")
    .update(JSON.stringify({ lockfileText, surface, esbuild, recipe: BUILD_RECIPE }))
    .digest("hex")
    .slice(0, 16);
}

/** The bundle's entry: re-exports of the surface, from each package's ES module build. */
export function entrySource(surface: SdkSurface = SDK_SURFACE): string {
  return Object.entries(surface)
    .map(([pkg, names]) => `export { ${names.join(", ")} } from "${pkg}";`)
    .join("\n");
}

function packageVersion(root: string, pkg: string): string {
  return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
}

/** esbuild's metafile, as far as these checks read it. */
export interface BundleMetafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

/**
 * Imports the bundle leaves for Node.js to resolve at run time that Node.js does not provide itself.
 * Any such module would come from wherever Lambda's module path finds it (the runtime's own SDK
 * included), so a build with one fails.
 */
export function unprovidedImports(metafile: BundleMetafile): string[] {
  const external = Object.values(metafile.inputs).flatMap((input) =>
    input.imports.filter((i) => i.external).map((i) => i.path),
  );
  const builtin = (name: string) => builtinModules.includes(name.replace(/^node:/, ""));
  return [...new Set(external.filter((name) => !builtin(name)))].sort();
}

/** The installed package directories ("node_modules/@smithy/core") the bundle took code from. */
export function bundledPackageDirs(metafile: BundleMetafile): string[] {
  const dirs = Object.keys(metafile.inputs)
    // From the first node_modules on: a linked node_modules shows as "../elsewhere/node_modules/...".
    .map(
      (input) =>
        /(node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*)\//.exec(input)?.[1],
    )
    .filter((dir): dir is string => dir !== undefined);
  return [...new Set(dirs)].sort();
}

/**
 * Each bundled package whose installed version is not the one package-lock.json pins, as an
 * explanation. The lockfile's v2/v3 "packages" map is keyed by exactly these directories.
 */
export function lockfileMismatches(
  lockfile: { packages?: Record<string, { version?: string }> },
  installed: Record<string, string>,
): string[] {
  return Object.entries(installed)
    .filter(([dir, version]) => lockfile.packages?.[dir]?.version !== version)
    .map(([dir, version]) =>
      lockfile.packages?.[dir]
        ? `${dir} is ${version}, package-lock.json pins ${lockfile.packages[dir].version}`
        : `${dir} (${version}) is not in package-lock.json`,
    );
}

/** Refuses a bundle that is not exactly the locked SDK, or that leaves an SDK module to the runtime. */
function checkBundle(root: string, lockfileText: string, metafile: BundleMetafile): void {
  const problems = unprovidedImports(metafile).map(
    (name) => `the bundle requires ${name} at run time, which the layer does not provide`,
  );
  const installed = Object.fromEntries(
    bundledPackageDirs(metafile).map((dir) => [
      dir,
      JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")).version as string,
    ]),
  );
  problems.push(...lockfileMismatches(JSON.parse(lockfileText), installed));
  if (problems.length > 0) {
    throw new Error(
      `The AWS SDK layer would not be the locked SDK (${problems.length} problems; run npm ci):\n  ${problems.join("\n  ")}`,
    );
  }
}

/**
 * Builds the layer into a cache directory named by its hash, or reuses it: an unchanged lockfile
 * and surface give the same files, so `pulumi up` sees the same archive and replaces nothing
 * (Pulumi compares a directory archive by a hash of its file names and contents only).
 * `cacheDir` is where built layers are kept (tests build into a fresh one).
 */
export function buildSdkLayer(
  root = ROOT,
  surface: SdkSurface = SDK_SURFACE,
  cacheDir = join(root, "node_modules", ".cache", "ec2-backup-retention", "sdk-layer"),
): BuiltLayer {
  const lockfileText = readFileSync(join(root, "package-lock.json"), "utf8");
  const hash = sdkLayerHash(lockfileText, surface);
  const dir = join(cacheDir, hash);
  const modulesDir = join(dir, "nodejs", "node_modules");
  const bundlePath = join(modulesDir, BUNDLE, "index.js");
  const modules = Object.keys(surface).map((pkg) => `${pkg}/dist-cjs/index.js`);
  if (!existsSync(bundlePath)) {
    const staging = `${dir}.building-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    const stagingModules = join(staging, "nodejs", "node_modules");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const esbuild = require("esbuild") as typeof import("esbuild");
    const { metafile } = esbuild.buildSync({
      stdin: { contents: entrySource(surface), resolveDir: root, loader: "ts" },
      // The bundle names each module by its path from the working directory ("node_modules/...");
      // pinned to the project, unresolved through a linked node_modules, so the same lockfile gives
      // the same bytes from any directory or clone, and Pulumi sees the same archive.
      absWorkingDir: root,
      preserveSymlinks: true,
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      // The packages' ES module builds: esbuild can drop the commands the handler never uses
      // (from their CommonJS builds it must keep everything, about 125 MB RSS instead of 77).
      mainFields: ["module", "main"],
      // Whitespace and syntax only: names stay readable in a stack trace.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: "none",
      outfile: join(stagingModules, BUNDLE, "index.js"),
      logLevel: "silent",
      metafile: true,
    });
    checkBundle(root, lockfileText, metafile);
    writeFileSync(
      join(stagingModules, BUNDLE, "package.json"),
      `${JSON.stringify({ name: BUNDLE, private: true, main: "index.js" }, null, 2)}\n`,
    );
    // Each package the closure requires is a two-line shim onto the one bundle.
    for (const pkg of Object.keys(surface)) {
      const pkgDir = join(stagingModules, pkg);
      mkdirSync(join(pkgDir, "dist-cjs"), { recursive: true });
      writeFileSync(
        join(pkgDir, "package.json"),
        `${JSON.stringify({ name: pkg, version: packageVersion(root, pkg), main: "dist-cjs/index.js" }, null, 2)}\n`,
      );
      writeFileSync(
        join(pkgDir, "dist-cjs", "index.js"),
        `// ${pkg} ${packageVersion(root, pkg)}, pinned: the parts this function uses, from the shared bundle.\nmodule.exports = require("${BUNDLE}");\n`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, ".."), { recursive: true });
    renameSync(staging, dir);
  }
  const bundle = readFileSync(bundlePath);
  return { dir, hash, modules, bytes: bundle.length, zippedBytes: deflateRawSync(bundle).length };
}
