import { startPostgresCluster, type HubServiceName } from '@hub/infra';
import type { TestStack } from '../test-stack';

/**
 * What the fault test breaks: each service (kill -9; the stack's supervisor restarts it), NATS and
 * PostgreSQL (stop, then start).
 */
export type FaultKind = HubServiceName | 'nats' | 'postgres';

export const ALL_FAULTS: readonly FaultKind[] = [
  'session-registry',
  'dependency-resolver',
  'container-runner',
  'gateway',
  'nats',
  'postgres',
];

export interface InjectedFault {
  kind: FaultKind;
  /** How it was broken, in words. */
  how: string;
  /** When the component went down (ms since epoch). */
  downAt: number;
  /** When it was started again and said it is ready (a service: the supervisor's restart was ready). */
  backAt: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Breaks one part of the stack and brings it back after `downMs`: a service is killed with SIGKILL
 * (no shutdown hook runs) and its supervisor restarts it, not before `downMs`; NATS is stopped and started on the same port and
 * JetStream store; PostgreSQL is stopped (fast shutdown) and started on the same port and data.
 */
export async function injectFault(hub: TestStack, kind: FaultKind, downMs: number): Promise<InjectedFault> {
  const { stack } = hub;
  if (kind === 'nats') {
    const nats = stack.nats;
    if (!nats) throw new Error('this stack does not run its own NATS');
    await nats.stop();
    const downAt = Date.now();
    await sleep(downMs);
    await nats.start();
    return { kind, how: `NATS stopped for ${ms(downMs)}, started again (same port and store)`, downAt, backAt: Date.now() };
  }
  if (kind === 'postgres') {
    const postgres = stack.postgres;
    if (!postgres) throw new Error('this stack does not run its own PostgreSQL');
    await postgres.stop();
    const downAt = Date.now();
    await sleep(downMs);
    stack.postgres = await startPostgresCluster({ dataDir: postgres.dataDir, port: postgres.port, fsync: false });
    return { kind, how: `PostgreSQL stopped for ${ms(downMs)}, started again (same port and data)`, downAt, backAt: Date.now() };
  }
  // The stack's supervisor restarts a killed service by itself; held back for downMs, like an outage.
  const service = stack.services[kind];
  await service.kill({ restartAfterMs: downMs });
  const downAt = Date.now();
  await service.whenRunning({ timeoutMs: 120_000 });
  return { kind, how: `kill -9 ${kind}, restarted by the supervisor after ${ms(downMs)}`, downAt, backAt: Date.now() };
}

const ms = (value: number) => `${(value / 1000).toFixed(1)} s`;
