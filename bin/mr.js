#!/usr/bin/env node
// The AWS SDK warns on every client that its 2027 releases need Node 22; Fanout supports Node 20 now.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// V8's heaps are sized for memory only once a plan is large (src/cli/heap-sizing.ts).
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
