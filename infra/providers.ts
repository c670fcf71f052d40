// Providers for the regions a stack covers. An explicitly created provider does not inherit the
// stack's `aws:` configuration (Pulumi docs, "Explicit provider configuration"), so each one is
// given every `aws:` setting of the stack, read generically, with only the region replaced: the
// same credentials, profile, assumed roles, default tags and account guards as the default provider.
import * as pulumi from "@pulumi/pulumi";

const NAMESPACE = "aws:";

/**
 * The stack's `aws:` settings as provider inputs: `aws:assumeRoles` becomes `assumeRoles`. Values
 * stay the strings Pulumi hands a default provider, objects and lists as JSON text: the generated
 * aws.Provider class sends every non-string input as `JSON.stringify(value)` too
 * (@pulumi/aws provider.js), so `assumeRoles: [{ roleArn }]` and `defaultTags: { tags }` reach the
 * provider in the same shape either way. JSON text is re-encoded compactly, byte for byte what
 * aws.Provider would send for the parsed value, however the stack file spaced it.
 */
export function awsSettings(config: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config)
      .filter(([key]) => key.startsWith(NAMESPACE))
      .map(([key, value]) => [key.slice(NAMESPACE.length), compactJson(value)]),
  );
}

/** A JSON object or list, compact; anything else (a profile name, "true", "25") as it is. */
function compactJson(value: string): string {
  if (!/^\s*[[{]/.test(value)) {
    return value;
  }
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return value;
  }
}

/** A provider's inputs for one region: every setting, the region replaced. */
export function regionProviderInputs(
  settings: Record<string, string>,
  region: string,
): Record<string, string> {
  return { ...settings, region };
}

/** The plugin version the locked @pulumi/aws uses, so the explicit providers match the default one. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AWS_PLUGIN_VERSION: string = require("@pulumi/aws/package.json").version;

/** Whether the stack marked a key secret (the SDK's own check, not in its published types). */
const isSecret = (key: string): boolean =>
  (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret?.(key) ?? false;

/**
 * An AWS provider that takes its inputs as Pulumi hands config over (strings). The generated
 * aws.Provider class would re-encode them by type, which only a hand-kept list of keys could do.
 */
class AwsProvider extends pulumi.ProviderResource {
  constructor(name: string, inputs: Record<string, pulumi.Input<string>>) {
    super("aws", name, inputs, { version: AWS_PLUGIN_VERSION });
  }
}

/** An explicit AWS provider for `region`, carrying the stack's other `aws:` settings (secrets stay secret). */
export function regionProvider(region: string): pulumi.ProviderResource {
  const inputs: Record<string, pulumi.Input<string>> = {};
  for (const [key, value] of Object.entries(
    regionProviderInputs(awsSettings(pulumi.runtime.allConfig()), region),
  )) {
    inputs[key] = key !== "region" && isSecret(`${NAMESPACE}${key}`) ? pulumi.secret(value) : value;
  }
  return new AwsProvider(`aws-${region}`, inputs);
}
