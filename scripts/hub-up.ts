// `npm run hub`, after scripts/ensure-deps.sh: starts the stack in the background (or reuses the
// one running), runs the example to completion, and says where everything is.
import { spawn } from 'node:child_process';
import { openSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import { logTail, readStackState, type StackState } from '@hub/infra';
import { runHelloExample } from '../examples/hello-session';
import { runReviewPipeline } from '../examples/review-pipeline';

const workspaceRoot = resolve(__dirname, '..');
const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function startStack(): Promise<StackState> {
  const running = await readStackState(stateDir);
  if (running) {
    console.log(`[hub] the stack is already running (pid ${running.pid}): reusing it`);
    return running;
  }
  const logFile = join(stateDir, 'logs', 'stack.log');
  await fs.mkdir(join(stateDir, 'logs'), { recursive: true });
  const from = (await fs.stat(logFile).catch(() => ({ size: 0 }))).size;
  console.log('[hub] starting PostgreSQL, NATS and the four services (logs in .hub/logs/)');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join('scripts', 'hub-stack.ts')], {
    cwd: workspaceRoot,
    env: { ...process.env, SWC_NODE_PROJECT: join(workspaceRoot, 'tsconfig.base.json'), HUB_STATE_DIR: stateDir },
    detached: true,
    stdio: ['ignore', out, out],
  });
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let waited = 0; waited < 120_000; waited += 200) {
    const state = await readStackState(stateDir);
    if (state && state.pid === child.pid) return state;
    if (exited) break;
    await sleep(200);
  }
  throw new Error(`the stack did not start:\n${logTail(logFile, from, 40)}`);
}

async function main() {
  const stack = await startStack();
  const token = process.env['HUB_API_TOKEN'] || (await fs.readFile(join(stateDir, 'api-token'), 'utf8')).trim();
  await runHelloExample(stack.gatewayUrl, token, (line) => console.log(line));
  await runReviewPipeline(stack.gatewayUrl, token, (line) => console.log(line));
  console.log(`
[hub] Hub is running.
  API:      ${stack.gatewayUrl}/api/v1   (health: ${stack.gatewayUrl}/health/ready)
  token:    ${token}   (also in ${join(stateDir, 'api-token')})
  try:      curl -H "Authorization: Bearer $(cat ${join(stateDir, 'api-token')})" ${stack.gatewayUrl}/api/v1/sessions
  logs:     ${stack.logDir}
  stop:     npm run hub:down`);
}

main().catch((error) => {
  console.error(`[hub] ${(error as Error).message}`);
  process.exit(1);
});
