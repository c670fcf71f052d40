// Benchmark processes load the AWS SDK from the function's layer, as Lambda does, not from
// node_modules: what is measured is what is deployed.
import { join } from "node:path";
import { ROOT } from "../infra/projectRoot";
import { buildSdkLayer } from "../infra/sdkLayer";

let layerDir: string | undefined;

/** Node.js arguments and environment for a child that must use the layer's SDK. */
export function withSdkLayer(env: NodeJS.ProcessEnv): { args: string[]; env: NodeJS.ProcessEnv } {
  layerDir ??= buildSdkLayer(ROOT).dir;
  return {
    args: ["-r", join(ROOT, "local", "useLayer.js")],
    env: { ...env, SDK_LAYER_DIR: layerDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  };
}
