// Preloaded with `node -r` so a process loads the AWS SDK from the function's layer, as Lambda
// does, instead of the project's node_modules: `SDK_LAYER_DIR=<dir> node -r local/useLayer.js ...`.
// A package the layer does not provide fails to load, so nothing silently falls back.
// Plain JavaScript: it runs before any TypeScript tooling.
"use strict";
const Module = require("node:module");
const path = require("node:path");

const layerDir = process.env.SDK_LAYER_DIR;
if (!layerDir) {
  throw new Error("useLayer.js needs SDK_LAYER_DIR, the built layer's directory");
}
const modules = path.join(layerDir, "nodejs", "node_modules");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  if (/^@aws-sdk\/client-/.test(request)) {
    return resolve.call(this, request, parent, isMain, { ...options, paths: [modules] });
  }
  return resolve.call(this, request, parent, isMain, options);
};
