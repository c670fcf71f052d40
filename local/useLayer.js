// Preloaded with `node -r` so a process loads the AWS SDK from the function's layer, as Lambda
// does, instead of the project's node_modules: `SDK_LAYER_DIR=<dir> node -r local/useLayer.js ...`.
// A client package the layer does not provide fails to load, so nothing silently falls back: a
// lookup from the layer's directory would otherwise go on up to the project's node_modules (the
// layer is built under node_modules/.cache), which Lambda's /opt/nodejs/node_modules never would.
// Plain JavaScript: it runs before any TypeScript tooling.
"use strict";
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

const layerDir = process.env.SDK_LAYER_DIR;
if (!layerDir) {
  throw new Error("useLayer.js needs SDK_LAYER_DIR, the built layer's directory");
}
const modules = path.join(layerDir, "nodejs", "node_modules");
const realModules = fs.realpathSync(modules);
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  if (/^@aws-sdk\/client-/.test(request)) {
    const resolved = resolve.call(this, request, parent, isMain, { ...options, paths: [modules] });
    if (!resolved.startsWith(`${realModules}${path.sep}`) && !resolved.startsWith(`${modules}${path.sep}`)) {
      const error = new Error(
        `${request}: not in the function's SDK layer (${modules}); add what the handler uses to its surface in infra/sdkLayer.ts`,
      );
      error.code = "MODULE_NOT_FOUND";
      throw error;
    }
    return resolved;
  }
  return resolve.call(this, request, parent, isMain, options);
};
