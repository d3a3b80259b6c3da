#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// The AWS SDK warns on every client that its 2027 releases need Node 22; Fanout supports Node 20 now.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// V8's heaps here grow to 2-3 times what they hold before collecting: the driver's, and each local
// worker thread's (created later, so they take the flag too). Sized for memory instead, a plan of
// 100,000 tasks ran in 360 MB rather than 700, in about the same time (bench/README.md, "Driver
// memory"). A flag given to node itself (`--no-optimize-for-size`) wins.
const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
if (!/--(no-)?optimize[-_]for[-_]size/.test(given)) setFlagsFromString('--optimize-for-size');
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv.slice(2));
