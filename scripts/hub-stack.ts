// The long-running process behind `npm run hub`: starts PostgreSQL and NATS (unless DATABASE_URL /
// NATS_URL are set) and the four services, restarts a service that dies (backoff 0.5 s doubling to
// 30 s), records where everything is and how each service fares in .hub/stack.json, and stops them all
// on SIGTERM (`npm run hub:down`). SIGUSR2 (sent by `npm run hub`) restarts at once a service that is
// waiting out its backoff.
import { resolve } from 'node:path';
import { clearStackState, HUB_SERVICES, startHubStack, stopLeftoverServices, writeStackState, type StackState } from '@hub/infra';

// Run compiled (dist/scripts/hub-stack.js) by `npm run hub`, from the repository's root.
const workspaceRoot = process.cwd();
const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

async function main() {
  // A stack process that was killed leaves its services running, unsupervised, on the gateway's port.
  const leftovers = await stopLeftoverServices(stateDir);
  if (leftovers.length) log(`stopped what a stack that died left running: ${leftovers.join(', ')}`);

  const stack = await startHubStack({
    workspaceRoot,
    stateDir,
    databaseUrl: process.env['DATABASE_URL'] || undefined,
    natsUrl: process.env['NATS_URL'] || undefined,
    gatewayPort: Number(process.env['HUB_PORT'] || 8080),
    apiToken: process.env['HUB_API_TOKEN'] || undefined,
    log,
  });
  let stopping = false;
  const startedAt = new Date().toISOString();
  const state = (): StackState => ({
    pid: process.pid,
    gatewayUrl: stack.gatewayUrl,
    natsUrl: stack.natsUrl,
    databaseUrl: stack.databaseUrl,
    logDir: stack.logDir,
    startedAt,
    buildId: stack.buildId,
    services: stack.statuses(),
    metricsUrls: stack.metricsUrls,
  });
  // One write at a time, the last state wins.
  let writing = Promise.resolve();
  const record = () => {
    if (stopping) return;
    writing = writing.then(() => writeStackState(stateDir, state())).catch((error) => log(`cannot write stack.json: ${error.message}`));
  };
  record();
  await writing;
  for (const name of HUB_SERVICES) stack.services[name].on('status', record);
  log(`stack up: ${stack.gatewayUrl}`);

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the services, NATS and PostgreSQL`);
    await writing;
    await stack.stop();
    await clearStackState(stateDir);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGUSR2', () => {
    for (const name of HUB_SERVICES) stack.services[name].retryNow();
  });
  setInterval(() => undefined, 60_000);
}

main().catch((error) => {
  console.error(`the stack did not start: ${(error as Error).message}`);
  process.exit(1);
});
