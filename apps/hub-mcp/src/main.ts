import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import pino from 'pino';
import { loadConfig } from '@hub/config';
import { HttpHubApi } from '@hub/hub-api';
import { createHubMcpServer } from '@hub/mcp';
import { apiTokenOf, HubMcpConfigSchema } from './hub-mcp.config';

const SERVICE = 'hub-mcp';

/**
 * stdout carries the MCP protocol and nothing else: this process logs to stderr, and anything a
 * library would print with console.log goes there too.
 */
function keepStdoutForTheProtocol(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

const stderrLogger = (level: string) =>
  pino(
    {
      name: SERVICE,
      level,
      base: { service: SERVICE },
      redact: { paths: ['token', 'apiToken', 'authorization', '*.token', '*.authorization'], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );

/** Hub's MCP tools on stdio, for an assistant to launch; they call the gateway's REST API. */
async function main() {
  keepStdoutForTheProtocol();
  const config = loadConfig(HubMcpConfigSchema);
  const logger = stderrLogger(config.LOG_LEVEL);
  const hub = new HttpHubApi({ baseUrl: config.HUB_URL, apiToken: await apiTokenOf(config) });
  const server = createHubMcpServer(hub, logger);
  const transport = new StdioServerTransport();

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, `${SERVICE} stopping`);
    void server.close().finally(() => process.exit(0));
  };
  transport.onerror = (error) => logger.warn({ err: error }, 'stdio transport error');
  await server.connect(transport);
  // The client closing our stdin is how an assistant ends us; the transport does not watch for it.
  process.stdin.once('end', () => stop('stdin closed'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  logger.info({ hubUrl: config.HUB_URL }, `${SERVICE} serving Hub's tools on stdio`);
}

main().catch((error) => {
  stderrLogger('info').fatal({ err: error }, `${SERVICE} failed to start: ${(error as Error).message}`);
  process.exit(1);
});
