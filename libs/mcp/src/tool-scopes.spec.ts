import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import type { Scope } from '@hub/contracts';
import { InMemoryHubApi } from '@hub/testing';
import { HUB_TOOLS } from './hub-tools';
import { createHubMcpServer, toolScope } from './hub-mcp.server';

describe("the MCP tools within a key's scope", () => {
  const connect = async (hub: InMemoryHubApi, scope: Scope) => {
    const server = createHubMcpServer(hub, pino({ level: 'silent' }), scope);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'spec', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    return client;
  };

  it('need read when their annotations say readOnlyHint, write otherwise', () => {
    const scopes = Object.fromEntries(HUB_TOOLS.map((tool) => [tool.name, toolScope(tool)]));
    expect(scopes).toMatchObject({ list_sessions: 'read', get_session_output: 'read', wait_for_session: 'read', create_session: 'write', cancel_orchestration: 'write' });
  });

  it('refuses a write tool to a read key as a tool error naming both scopes, and runs nothing', async () => {
    const hub = new InMemoryHubApi();
    const client = await connect(hub, 'read');
    try {
      const refused = (await client.callTool({ name: 'create_session', arguments: { prompt: 'p' } })) as CallToolResult;
      expect(refused).toMatchObject({ isError: true, content: [{ type: 'text', text: 'this key (read) may not call create_session: it needs the write scope' }] });
      expect(hub.received).toEqual([]);
      const listed = (await client.callTool({ name: 'list_sessions', arguments: {} })) as CallToolResult;
      expect(listed.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('runs it for a write key', async () => {
    const hub = new InMemoryHubApi();
    const client = await connect(hub, 'write');
    try {
      const created = (await client.callTool({ name: 'create_session', arguments: { prompt: 'p' } })) as CallToolResult;
      expect(created.isError).toBeFalsy();
      expect(hub.sessions.size).toBe(1);
    } finally {
      await client.close();
    }
  });
});
