// `npm run hub:down`: stops the stack `npm run hub` started (services, then NATS and PostgreSQL).
// If the stack process itself died, stops what it left running: its services, NATS and PostgreSQL.
import { join, resolve } from 'node:path';
import {
  clearStackState,
  isProcessRunning,
  readStackFile,
  readStackState,
  stopLeftoverServices,
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
      return;
    }
    console.log('[hub] no stack is running');
    return;
  }
  process.kill(stack.pid, 'SIGTERM');
  for (let waited = 0; isProcessRunning(stack.pid); waited += 200) {
    if (waited > 60_000) throw new Error(`the stack (pid ${stack.pid}) is still running after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log('[hub] stopped');
}

main().catch((error) => {
  console.error(`[hub] ${(error as Error).message}`);
  process.exit(1);
});
