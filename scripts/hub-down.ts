// `npm run hub:down`: stops the stack `npm run hub` started (services, then NATS and PostgreSQL).
import { resolve } from 'node:path';
import { isProcessAlive, readStackState } from '@hub/infra';

const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');

async function main() {
  const stack = await readStackState(stateDir);
  if (!stack) {
    console.log('[hub] no stack is running');
    return;
  }
  process.kill(stack.pid, 'SIGTERM');
  for (let waited = 0; isProcessAlive(stack.pid); waited += 200) {
    if (waited > 60_000) throw new Error(`the stack (pid ${stack.pid}) is still running after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log('[hub] stopped');
}

main().catch((error) => {
  console.error(`[hub] ${(error as Error).message}`);
  process.exit(1);
});
