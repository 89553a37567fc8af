import type { HealthCheck, RunnerList } from '@hub/contracts';

/** The checks of one part of Hub (a service, or NATS), as the health page groups them. */
export interface CheckGroup {
  name: string;
  ok: boolean;
  checks: HealthCheck[];
}

export interface RunnerSlots {
  /** The runner's id. */
  runner: string;
  used: number;
  capacity: number;
  /** What the runners list says besides (GET /api/v1/runners); the readiness check says none of it. */
  status?: 'alive' | 'lost';
  labels?: string[];
  lastSeenAt?: string;
  holds?: number;
}

/** Every runner of the registry's list, those alive first. */
export function runnersFromList(list: RunnerList): RunnerSlots[] {
  return [...list.runners]
    .sort((a, b) => Number(a.status === 'lost') - Number(b.status === 'lost') || a.runnerId.localeCompare(b.runnerId))
    .map((runner) => ({
      runner: runner.runnerId,
      used: runner.inUse,
      capacity: runner.slots,
      status: runner.status,
      labels: runner.labels,
      lastSeenAt: runner.lastSeenAt,
      holds: runner.holds,
    }));
}

const SERVICES = ['gateway', 'session-registry', 'dependency-resolver', 'container-runner'];

/** What part of Hub a check is about: the service before its `/`, or NATS (the server and the event stream). */
function groupOf(check: HealthCheck): string {
  const service = check.name.split('/')[0];
  return SERVICES.includes(service) ? service : 'nats';
}

/** The checks grouped by part, in the order they came; a group is ok when all its checks are. */
export function groupChecks(checks: readonly HealthCheck[]): CheckGroup[] {
  const groups = new Map<string, CheckGroup>();
  for (const check of checks) {
    const name = groupOf(check);
    const group = groups.get(name) ?? { name, ok: true, checks: [] };
    group.checks.push(check);
    group.ok &&= check.ok;
    groups.set(name, group);
  }
  return [...groups.values()];
}

/**
 * The runner's slots, as its health answer says them (`container-runner/docker`: "engine reachable;
 * 2/4 slots in use", and `container-runner`: "container-runner <id> answered"). The readiness
 * request reaches one runner (the first of their queue group to answer), so this is that runner's.
 */
export function runnerSlots(checks: readonly HealthCheck[]): RunnerSlots[] {
  const answered = checks.find((check) => check.name === 'container-runner' && check.ok);
  const docker = checks.find((check) => check.name === 'container-runner/docker');
  const slots = docker?.detail.match(/(\d+)\/(\d+) slots in use/);
  if (!answered || !slots) return [];
  const runner = answered.detail.match(/^container-runner (.+) answered$/)?.[1] ?? 'container-runner';
  return [{ runner, used: Number(slots[1]), capacity: Number(slots[2]) }];
}
