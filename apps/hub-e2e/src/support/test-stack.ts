import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { makeTempDir, NATS_OBSERVER, startHubStack, type HubStack } from '@hub/infra';
import { HubApi } from './hub-api';

const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

export interface TestStack {
  stack: HubStack;
  api: HubApi;
  stop(): Promise<void>;
}

/**
 * A whole Hub for one spec file, in a temporary state directory: real PostgreSQL, nats-server -js,
 * the four services as processes, the real Docker engine and the locally built test agent and egress
 * bridge images.
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  execFileSync('bash', [join(WORKSPACE_ROOT, 'images/test-agent/build.sh')], { stdio: 'ignore' });
  // The helper a session allowed any destination reaches Hub's egress proxy through.
  execFileSync('bash', [join(WORKSPACE_ROOT, 'images/egress-bridge/build.sh')], { stdio: 'ignore' });
  const stateDir = await makeTempDir('hub-e2e');
  const stack = await startHubStack({
    workspaceRoot: WORKSPACE_ROOT,
    stateDir,
    durable: false,
    apiToken: randomBytes(16).toString('hex'),
    natsObserver: true,
    env: { HUB_RUNNER_SLOTS: '4', HUB_STOP_GRACE_SECONDS: '2', LOG_LEVEL: 'info', ...env },
  });
  return {
    stack,
    api: new HubApi(stack.gatewayUrl, stack.apiToken),
    async stop() {
      await stack.stop();
      if (!process.env['HUB_E2E_KEEP']) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * A NATS connection as hub-observer, the user that may watch the whole bus: for specs that check
 * what travels on it (the services themselves each have only their own permissions).
 */
export function connectToBus(stack: HubStack, options: ConnectionOptions = {}): Promise<NatsConnection> {
  return connect({ servers: stack.natsUrl, ...stack.natsCredentials(NATS_OBSERVER), ...options });
}
