import Ajv from 'ajv';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import pino from 'pino';
import { InMemoryHubApi } from '@hub/testing';
import { createHubMcpServer } from './hub-mcp.server';

// Strict clients (the MCP Inspector's strict mode, model providers' strict tool use) refuse a whole
// tools list when one schema is not plain, valid JSON Schema. Every tool's input and output schema
// is compiled here the strictest way Ajv knows: unknown keywords, ambiguous types, unevaluated
// formats and the like are errors, not warnings.
describe('MCP tool schemas, checked as strict clients check them', () => {
  let tools: Awaited<ReturnType<Client['listTools']>>['tools'];

  beforeAll(async () => {
    const server = createHubMcpServer(new InMemoryHubApi(), pino({ level: 'silent' }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'strict-check', version: '1.0.0' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    ({ tools } = await client.listTools());
    await client.close();
  });

  const strictAjv = () => new Ajv({ strict: true, strictTypes: true, strictTuples: true, strictRequired: true, allErrors: true, validateFormats: false });

  it('compiles every input and output schema under Ajv strict mode (the draft-07 dialect the SDK declares)', () => {
    expect(tools.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const tool of tools) {
      for (const [which, schema] of [['input', tool.inputSchema], ['output', tool.outputSchema]] as const) {
        if (!schema) {
          failures.push(`${tool.name}: no ${which} schema`);
          continue;
        }
        try {
          strictAjv().compile(schema);
        } catch (error) {
          failures.push(`${tool.name} ${which}: ${(error as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives every input schema an object type whose every property says what it is for', () => {
    const undescribed: string[] = [];
    for (const tool of tools) {
      expect({ tool: tool.name, type: tool.inputSchema.type }).toEqual({ tool: tool.name, type: 'object' });
      for (const [name, property] of Object.entries(tool.inputSchema.properties ?? {})) {
        if (typeof (property as { description?: unknown }).description !== 'string') undescribed.push(`${tool.name}.${name}`);
      }
    }
    expect(undescribed).toEqual([]);
  });
});
