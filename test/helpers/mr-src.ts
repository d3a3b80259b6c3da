// Runs `mr` from source (through tsx), so CLI tests need no build of dist/; set up as bin/mr.js does.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../../src/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
