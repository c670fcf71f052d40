// `npm run layer`: builds (or reuses) the function's pinned AWS SDK layer and says what it holds.
import { SDK_SURFACE, buildSdkLayer } from "../infra/sdkLayer";

const layer = buildSdkLayer();
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
process.stdout.write(
  `AWS SDK layer ${layer.hash}: ${kb(layer.bytes)} bundle, ${kb(layer.zippedBytes)} zipped\n` +
    `  at ${layer.dir}\n` +
    Object.entries(SDK_SURFACE)
      .map(([pkg, names]) => `  ${pkg}: ${names.join(", ")}`)
      .join("\n") +
    "\n",
);
