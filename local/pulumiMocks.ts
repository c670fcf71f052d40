// Pulumi's mock runtime with a record of every registered resource, for the tests and `npm run synth`.
// `call` throws on any invoke it does not know, so nothing passes by accident.
import * as pulumi from "@pulumi/pulumi";

export const PROJECT = "ec2-backup-retention";
export const STACK = "test";
export const ACCOUNT = "123456789012";
/** The organization getOrganization answers with (organization mode). */
export const ORGANIZATION_ID = "o-exampleorg1";

export interface Registered {
  type: string;
  name: string;
  /** The provider reference ("urn::id"), when the resource has an explicit one. */
  provider?: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export const registered: Registered[] = [];

/** What the engine would be told: each resource's URN, parent and aliases, as the SDK sent them. */
export interface Registration {
  type: string;
  name: string;
  urn: string;
  parent: string;
  /** Alias specs, e.g. { name: "tagger" } (no parent, type or stack given means "the same"). */
  aliases: { name?: string; type?: string; parenturn?: string; noparent?: boolean }[];
}
export const registrations: Registration[] = [];

/** Records what the SDK sends the (mock) monitor, around its own handling. */
function recordRegistrations(): void {
  const monitor = (pulumi.runtime as unknown as { getMonitor(): Record<string, unknown> }).getMonitor();
  const register = monitor.registerResource as (req: any, callback: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: (error: unknown, response: any) => void) =>
    register.call(monitor, req, (error: unknown, response: { getUrn(): string } | undefined) => {
      if (!error && response) {
        registrations.push({
          type: req.getType(),
          name: req.getName(),
          urn: response.getUrn(),
          parent: req.getParent(),
          aliases: (req.getAliasesList?.() ?? []).map(
            (alias: { getSpec?: () => { toObject(): object } }) => alias.getSpec?.()?.toObject() ?? {},
          ),
        });
      }
      callback(error, response);
    });
}

function arnFor(
  type: string,
  inputs: Record<string, unknown>,
  region: string,
  name: string,
): string | undefined {
  const physical = (inputs.name as string | undefined) ?? name;
  switch (type) {
    case "aws:iam/role:Role":
      return `arn:aws:iam::${ACCOUNT}:role/${physical}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${region}:${ACCOUNT}:log-group:${physical}`;
    case "aws:lambda/function:Function":
      return `arn:aws:lambda:${region}:${ACCOUNT}:function:${physical}`;
    case "aws:cloudwatch/eventRule:EventRule":
      return `arn:aws:events:${region}:${ACCOUNT}:rule/${physical}`;
    case "aws:sqs/queue:Queue":
      return `arn:aws:sqs:${region}:${ACCOUNT}:${physical}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${region}:${ACCOUNT}:${physical}`;
    case "aws:dynamodb/table:Table":
      return `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${physical}`;
    case "aws:lambda/layerVersion:LayerVersion":
      return `arn:aws:lambda:${region}:${ACCOUNT}:layer:${(inputs.layerName as string | undefined) ?? name}:1`;
    case "aws:rbin/rule:Rule":
      return `arn:aws:rbin:${region}:${ACCOUNT}:rule/${name}`;
    default:
      return undefined;
  }
}

/** Installs the mocks and the given config (keys without a namespace belong to the project). */
export function setUpMocks(
  config: Record<string, string>,
  region = config["aws:region"] ?? "us-east-1",
): void {
  registered.length = 0;
  registrations.length = 0;
  const providerRegions = new Map<string, string>();
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    all[key.includes(":") ? key : `${PROJECT}:${key}`] = value;
  }
  pulumi.runtime.setAllConfig(all);
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        if (args.type === "pulumi:providers:aws") {
          providerRegions.set(args.name, args.inputs.region);
        }
        // A provider reference is "<urn>::<id>"; the URN ends with the provider's name.
        const providerName = args.provider?.split("::").slice(-2)[0];
        const resourceRegion = (providerName && providerRegions.get(providerName)) || region;
        const arn = arnFor(args.type, args.inputs, resourceRegion, args.name);
        // A role's unique ID, as IAM gives it (AROA...), derived from its logical name.
        const uniqueId =
          args.type === "aws:iam/role:Role"
            ? `AROA${Buffer.from(args.name).toString("hex").toUpperCase().slice(0, 17)}`
            : undefined;
        const name = args.inputs.name ?? args.name;
        // Queues are identified by their URL, as in the AWS provider.
        const url =
          args.type === "aws:sqs/queue:Queue"
            ? `https://sqs.${resourceRegion}.amazonaws.com/${ACCOUNT}/${name}`
            : undefined;
        return {
          id: url ?? `${args.name}-id`,
          state: {
            ...args.inputs,
            name,
            ...(arn ? { arn } : {}),
            ...(url ? { url } : {}),
            ...(uniqueId ? { uniqueId } : {}),
          },
        };
      },
      call(args) {
        if (args.token === "aws:index/getPartition:getPartition") {
          return {
            id: "aws",
            partition: "aws",
            dnsSuffix: "amazonaws.com",
            reverseDnsPrefix: "com.amazonaws",
          };
        }
        if (args.token === "aws:organizations/getOrganization:getOrganization") {
          return {
            id: ORGANIZATION_ID,
            arn: `arn:aws:organizations::${ACCOUNT}:organization/${ORGANIZATION_ID}`,
            masterAccountId: ACCOUNT,
            featureSet: "ALL",
          };
        }
        throw new Error(`unexpected invoke ${args.token}`);
      },
    },
    PROJECT,
    STACK,
    false,
  );
  recordRegistrations();
}

/** Resolves Outputs nested in plain objects (outputs keyed by region). */
async function resolveDeep(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    return valueOf(value as pulumi.Output<unknown>);
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveDeep(v)] as const),
    );
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

/** Resolves an Output's value under the mocks. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

export function findResource(type: string, name?: string): Registered {
  const found = registered.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
  }
  return found[0];
}

/** Stack exports of index.ts, as plain values. */
export type StackOutputs = Record<string, unknown>;

/**
 * Runs index.ts afresh under the mocks with this config and resolves its exports once every
 * resource is registered.
 */
export async function loadStack(config: Record<string, string>): Promise<StackOutputs> {
  setUpMocks(config);
  const path = require.resolve("../index");
  delete require.cache[path];
  const stack = (await import(path)) as Record<string, unknown>;
  const outputs: StackOutputs = {};
  for (const [key, value] of Object.entries(stack)) {
    // Pulumi drops undefined exports; so do we.
    const resolved = pulumi.Output.isInstance(value) ? await valueOf(value) : await resolveDeep(value);
    if (resolved !== undefined) {
      outputs[key] = resolved;
    }
  }
  // Children that depend on other resources' outputs register a few turns after the exports resolve.
  let count = -1;
  while (count !== registered.length) {
    count = registered.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return outputs;
}

/** The files of the mocked CallbackFunction's `code` archive: exactly what Pulumi would upload. */
export async function lambdaArchive(functionResourceName?: string): Promise<Record<string, string>> {
  const fn = findResource("aws:lambda/function:Function", functionResourceName);
  const assets = (await fn.inputs.code.assets) as Record<string, { text?: Promise<string>; path?: string }>;
  const files: Record<string, string> = {};
  for (const [name, asset] of Object.entries(assets)) {
    if (asset.text === undefined) {
      throw new Error(`archive entry ${name} is not a StringAsset`);
    }
    files[name] = await asset.text;
  }
  return files;
}

/** Where the mocked stack's SDK layer was built: the directory that holds nodejs/node_modules. */
export async function sdkLayerDir(layerResourceName?: string): Promise<string> {
  const layer = findResource("aws:lambda/layerVersion:LayerVersion", layerResourceName);
  return (await layer.inputs.code.path) as string;
}
