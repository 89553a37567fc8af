// The long-running process behind `npm run hub`: starts PostgreSQL and NATS (unless DATABASE_URL /
// NATS_URL are set) and the four services, records where they are in .hub/stack.json, and stops
// them all on SIGTERM (`npm run hub:down`).
import { resolve } from 'node:path';
import { clearStackState, startHubStack, writeStackState } from '@hub/infra';

const workspaceRoot = resolve(__dirname, '..');
const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');

async function main() {
  const stack = await startHubStack({
    workspaceRoot,
    stateDir,
    databaseUrl: process.env['DATABASE_URL'] || undefined,
    natsUrl: process.env['NATS_URL'] || undefined,
    gatewayPort: Number(process.env['HUB_PORT'] || 8080),
    apiToken: process.env['HUB_API_TOKEN'] || undefined,
  });
  await writeStackState(stateDir, {
    pid: process.pid,
    gatewayUrl: stack.gatewayUrl,
    natsUrl: stack.natsUrl,
    databaseUrl: stack.databaseUrl,
    logDir: stack.logDir,
    startedAt: new Date().toISOString(),
  });
  console.log(`stack up: ${stack.gatewayUrl}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the services, NATS and PostgreSQL`);
    await stack.stop();
    await clearStackState(stateDir);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  setInterval(() => undefined, 60_000);
}

main().catch((error) => {
  console.error(`the stack did not start: ${(error as Error).message}`);
  process.exit(1);
});
