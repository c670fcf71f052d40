// Loaded by mocha before any test (see .mocharc.json).
// The SDK warns once per process that its 2027 releases need Node.js 22; the tests run on 20 and 22
// on purpose, so the warning is noise here. The README says which Node.js to develop on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
