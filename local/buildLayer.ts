// `npm run layer`: builds (or reuses) the pinned AWS SDK layers and says what each holds: the
// single-account function's, and organization mode's (its dispatcher and worker share one).
import { ORGANIZATION_SDK_SURFACE, SDK_SURFACE, buildSdkLayer, type SdkSurface } from "../infra/sdkLayer";

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const layers: [string, SdkSurface][] = [
  ["AWS SDK layer", SDK_SURFACE],
  ["Organization mode's AWS SDK layer", ORGANIZATION_SDK_SURFACE],
];
for (const [title, surface] of layers) {
  const layer = buildSdkLayer(undefined, surface);
  process.stdout.write(
    `${title} ${layer.hash}: ${kb(layer.bytes)} bundle, ${kb(layer.zippedBytes)} zipped\n` +
      `  at ${layer.dir}\n` +
      Object.entries(surface)
        .map(([pkg, names]) => `  ${pkg}: ${names.join(", ")}`)
        .join("\n") +
      "\n",
  );
}
