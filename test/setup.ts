// Loaded before every test file (see the test script in package.json).
// The SDK warns once per process that its releases after January 2027 will need Node.js 22;
// the pinned version supports Node.js 20, so the warning is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
