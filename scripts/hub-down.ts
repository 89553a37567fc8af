// `npm run hub:down`: stops the stack `npm run hub` started (services, then NATS and PostgreSQL).
// If the stack process itself died, stops what it left running: its services, NATS and PostgreSQL.
import { join, resolve } from 'node:path';
import {
  clearStackState,
  runningContainersLabelled,
  stackRunnerId,
  readStackFile,
  readStackState,
  stopLeftoverServices,
  stopStackProcess,
  stopOrphanedNatsServer,
  stopOrphanedPostgres,
} from '@hub/infra';

const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');

async function main() {
  const stack = await readStackState(stateDir);
  if (!stack) {
    if (await readStackFile(stateDir)) {
      const services = await stopLeftoverServices(stateDir);
      await stopOrphanedNatsServer(join(stateDir, 'nats'));
      await stopOrphanedPostgres(join(stateDir, 'postgres'));
      await clearStackState(stateDir);
      console.log(
        `[hub] the stack process had died; stopped what it left running${services.length ? ` (${services.join(', ')})` : ''}, and its NATS and PostgreSQL if they still ran`,
      );
      await sayWhatKeepsRunning();
      return;
    }
    console.log('[hub] no stack is running');
    return;
  }
  await stopStackProcess(stack);
  console.log('[hub] stopped');
  await sayWhatKeepsRunning();
}

/**
 * What happens to the sessions that were running: their containers keep running (a runner stopping
 * leaves them for adoption, removing only those that had ended), and the next `npm run hub` adopts them.
 */
async function sayWhatKeepsRunning(): Promise<void> {
  const runnerId = stackRunnerId(stateDir);
  const running = await runningContainersLabelled('hub.runner', runnerId);
  if (running === null) return void console.log('[hub] Docker did not answer: cannot say whether session containers still run');
  if (!running.length) return void console.log('[hub] no session container is left running');
  console.log(
    `[hub] ${running.length} container${running.length === 1 ? '' : 's'} of sessions that were running keep${running.length === 1 ? 's' : ''} running ` +
      `(label hub.runner=${runnerId}): \`npm run hub\` adopts them and reports how they end; to stop them instead: ` +
      `docker rm -f $(docker ps -q --filter label=hub.runner=${runnerId})`,
  );
}

main().catch((error) => {
  console.error(`[hub] ${(error as Error).message}`);
  process.exit(1);
});
