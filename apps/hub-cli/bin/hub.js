#!/usr/bin/env node
// hub: Hub's command line (submit, watch, events, ls, get, logs, output, changes, cancel, retry,
// rerun), run from the TypeScript sources with @swc-node/register (a client tool, not a service: no
// build step, unlike the services' production build). It finds the gateway and its token from
// --url/--token, HUB_URL/HUB_API_TOKEN, or a cli.json (see README.md).
const { join } = require('node:path');

process.env.SWC_NODE_PROJECT = join(__dirname, '..', '..', '..', 'tsconfig.base.json');
require('@swc-node/register');
require('../src/main.ts');
