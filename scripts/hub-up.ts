// `npm run hub`, after scripts/ensure-deps.sh: builds the services (incrementally: the production
// build, plain JavaScript run by node), starts the stack in the background (or reuses the one running
// if it runs this build; one running older code is stopped and started again), waits until every service answers, runs the example to completion, and says where
// everything is. It repairs a stack with a dead part: a stack process that died is started again
// (what it left running is stopped first, scripts/hub-stack.ts); a service that is down in a live
// stack is restarted by the stack's supervisor, which this asks to retry at once, then waits for
// /health/ready (at most HUB_READY_TIMEOUT_SECONDS, default 120) and says what is wrong if it is not.
import { spawn } from 'node:child_process';
import { openSync, promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildDashboard,
  buildServices,
  compiledPath,
  describeExit,
  HUB_SERVICES,
  isProcessRunning,
  logTail,
  readStackFile,
  readStackState,
  stackStateFile,
  stopStackProcess,
  type StackState,
} from '@hub/infra';
import { runHelloExample } from '../examples/hello-session';
import { runReviewPipeline } from '../examples/review-pipeline';
import { writeCliConfig } from '../apps/hub-cli/src/cli-config';

const workspaceRoot = resolve(__dirname, '..');
/** The stack's supervisor, run compiled in the background (scripts/hub-stack.ts). */
const STACK_PROGRAM = join('scripts', 'hub-stack.ts');
const stateDir = resolve(process.env['HUB_STATE_DIR'] ?? '.hub');
const readyTimeoutMs = Number(process.env['HUB_READY_TIMEOUT_SECONDS'] || 120) * 1000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The services and the stack's own supervisor, compiled where they changed (see buildServices), and the dashboard. */
async function build(): Promise<string> {
  const build = buildServices(workspaceRoot, HUB_SERVICES, [STACK_PROGRAM]);
  if (build.compiled || build.removed) {
    console.log(`[hub] built the services: ${build.compiled} of ${build.sources} files compiled in ${build.ms} ms (build ${build.buildId})`);
  }
  if ((await buildDashboard(workspaceRoot)).rebuilt) console.log('[hub] built the dashboard (dist/dashboard)');
  return build.buildId;
}

async function startStack(buildId: string): Promise<StackState> {
  const running = await readStackState(stateDir);
  if (running && running.buildId === buildId) {
    console.log(`[hub] the stack is already running (pid ${running.pid}, build ${buildId}): reusing it`);
    return running;
  }
  if (running) {
    console.log(
      `[hub] the running stack (pid ${running.pid}) runs ${running.buildId ? `build ${running.buildId}` : 'an older version'}, ` +
        `not the code on disk (build ${buildId}): restarting it; its sessions' containers keep running and the new runner adopts them`,
    );
    await stopStackProcess(running);
  }
  const dead = await readStackFile(stateDir);
  if (dead) {
    console.log(`[hub] the stack process in ${stackStateFile(stateDir)} (pid ${dead.pid}) is gone: starting the stack again`);
  }
  const logFile = join(stateDir, 'logs', 'stack.log');
  await fs.mkdir(join(stateDir, 'logs'), { recursive: true, mode: 0o700 });
  await fs.chmod(stateDir, 0o700);
  const from = (await fs.stat(logFile).catch(() => ({ size: 0 }))).size;
  console.log(`[hub] starting PostgreSQL, NATS and the four services (logs in ${join(stateDir, 'logs')}/)`);
  const out = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, ['--enable-source-maps', compiledPath(workspaceRoot, STACK_PROGRAM)], {
    cwd: workspaceRoot,
    env: { ...process.env, HUB_STATE_DIR: stateDir },
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

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; detail: string; fix?: string }[];
}

/**
 * Waits until the gateway's /health/ready answers 200. A service that is down is restarted by the
 * stack's supervisor; asks it to retry now rather than at the end of its backoff. Throws, saying
 * what is wrong and where to look, if Hub is not ready in time or the stack process dies.
 */
async function waitUntilReady(stack: StackState): Promise<void> {
  const deadline = Date.now() + readyTimeoutMs;
  let said = '';
  let nudged = false;
  let last: Readiness | string = 'no answer yet';
  for (;;) {
    try {
      const response = await fetch(`${stack.gatewayUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) });
      last = (await response.json()) as Readiness;
      if (response.status === 200) return;
    } catch (error) {
      last = `the gateway does not answer at ${stack.gatewayUrl}: ${(error as Error).message}`;
    }
    if (!isProcessRunning(stack.pid)) {
      throw new Error(`the stack process (pid ${stack.pid}) exited; its log: ${join(stack.logDir, 'stack.log')}. Run \`npm run hub\` again.`);
    }
    // Only a stack that records its services (this version) knows SIGUSR2; to others it would be fatal.
    if (!nudged && stack.services) process.kill(stack.pid, 'SIGUSR2');
    nudged = true;
    const waitingFor = typeof last === 'string' ? last : (last.checks ?? []).filter((c) => !c.ok).map((c) => c.name).join(', ');
    if (waitingFor !== said) {
      console.log(`[hub] waiting until Hub is ready: ${waitingFor}`);
      said = waitingFor;
    }
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  const state = await readStackFile(stateDir);
  const services = Object.values(state?.services ?? {})
    .filter((s) => s && (s.state !== 'running' || s.restarts > 0))
    .map(
      (s) =>
        `  ${s!.name}: ${s!.state}, restarted ${s!.restarts} times` +
        `${s!.lastExit ? `, last exit ${describeExit(s!.lastExit)} at ${s!.lastExit.at}` : ''}; log: ${join(stack.logDir, `${s!.name}.log`)}`,
    );
  const checks =
    typeof last === 'string'
      ? [`  ${last}`]
      : (last.checks ?? []).filter((c) => !c.ok).map((c) => `  ${c.name}: ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`);
  throw new Error(
    [
      `Hub is not ready after ${readyTimeoutMs / 1000} s:`,
      ...checks,
      ...(services.length ? ["what the stack's supervisor saw:", ...services] : []),
      'Fix what is named above and run `npm run hub` again; `npm run hub:down && npm run hub` restarts everything.',
    ].join('\n'),
  );
}

async function main() {
  const stack = await startStack(await build());
  await waitUntilReady(stack);
  await writeCliConfig(stateDir, stack.gatewayUrl);
  const token = process.env['HUB_API_TOKEN'] || (await fs.readFile(join(stateDir, 'api-token'), 'utf8')).trim();
  await runHelloExample(stack.gatewayUrl, token, (line) => console.log(line));
  await runReviewPipeline(stack.gatewayUrl, token, (line) => console.log(line));
  console.log(`
[hub] Hub is running.
  API:      ${stack.gatewayUrl}/api/v1   (health: ${stack.gatewayUrl}/health/ready)
  dashboard: ${stack.gatewayUrl}/   (sign in with the token below)
  docs:     ${stack.gatewayUrl}/api/docs   (OpenAPI 3.1: ${stack.gatewayUrl}/api/openapi.json; no token)
  token:    ${token}   (also in ${join(stateDir, 'api-token')})
  try:      curl -H "Authorization: Bearer $(cat ${join(stateDir, 'api-token')})" ${stack.gatewayUrl}/api/v1/sessions
  CLI:      node apps/hub-cli/bin/hub.js ls   (reads ${join(stateDir, 'cli.json')}; \`npm link\` puts \`hub\` on the PATH)
  NATS:     ${stack.natsUrl}   (JetStream stream HUB_EVENTS; over HTTP: ${stack.gatewayUrl}/api/v1/events)
  metrics:  ${stack.gatewayUrl}/metrics   (Prometheus, no token; every service's: metricsUrls in ${stackStateFile(stateDir)})
  logs:     ${stack.logDir}
  stop:     npm run hub:down`);
}

main().catch((error) => {
  console.error(`[hub] ${(error as Error).message}`);
  process.exit(1);
});
