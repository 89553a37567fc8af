#!/usr/bin/env node
// hub-mcp: Hub's MCP tools on stdio, run from the TypeScript sources with @swc-node/register (a
// client tool, not a service: no build step, unlike the services' production build). Configure it
// with HUB_URL and HUB_API_TOKEN (see docs/mcp.md).
const { join } = require('node:path');

process.env.SWC_NODE_PROJECT = join(__dirname, '..', '..', '..', 'tsconfig.base.json');
require('@swc-node/register');
require('../src/main.ts');
