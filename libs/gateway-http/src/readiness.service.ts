import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { NatsConnection, StreamInfo } from 'nats';
import { readSupervisorStatus, supervisorHealthCheck, type SupervisorStatus } from '@hub/config';
import { EVENT_STREAM, HealthCheck, RPC, RPC_TIMEOUTS, RunnerView } from '@hub/contracts';
import { isNotFound, NATS_CONNECTION, RpcClient } from '@hub/messaging';
import type { ReadinessReport } from '@hub/hub-api';

/** Health checks answer fast or count as failed: a readiness probe must not hang (the catalog's bound for health requests). */
export const HEALTH_TIMEOUT_MS = RPC_TIMEOUTS.health;

/** What fixes a service that does not answer: the stack's supervisor, its log, `npm run hub`. */
export function serviceFix(service: string, logDir: string): string {
  return (
    `the Hub stack restarts a service that stops, within seconds (backoff up to 30 s when it keeps stopping); ` +
    `if it keeps failing, its log says why: ${join(logDir, `${service}.log`)}; ` +
    '`npm run hub` repairs the stack (starts it, or what it lacks, and waits until every service answers)'
  );
}

/**
 * Can the gateway serve requests: NATS reachable, the event stream there, and a session-registry,
 * a dependency-resolver and a container-runner answering their health requests (with their own
 * checks: PostgreSQL, Docker, images, and how often the stack restarted each), and every runner the
 * registry knows (`runners/<id>`: alive, or lost; a lost one still holding sessions fails). Every
 * check runs at once, each bounded by HEALTH_TIMEOUT_MS.
 */
@Injectable()
export class Readiness {
  /** The gateway's own restarts, as the stack's supervisor passed them at start. */
  private readonly supervisor: SupervisorStatus = readSupervisorStatus();
  /** Where the stack writes each service's log (.hub/logs unless the stack says otherwise). */
  private readonly logDir = this.supervisor.logFile ? dirname(this.supervisor.logFile) : join('.hub', 'logs');

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly rpc: RpcClient,
  ) {}

  async report(): Promise<ReadinessReport> {
    const gateway = supervisorHealthCheck(this.supervisor);
    const groups = await Promise.all([
      this.nats(),
      this.eventStream(),
      [{ ...gateway, name: `gateway/${gateway.name}` }],
      this.service('session-registry', RPC.registryHealth),
      this.service('dependency-resolver', RPC.resolverHealth),
      this.service('container-runner', RPC.runnerHealth),
      this.runners(),
    ]);
    const checks = groups.flat();
    return { status: checks.every((check) => check.ok) ? 'ok' : 'unavailable', checks };
  }

  private async nats(): Promise<HealthCheck[]> {
    try {
      const rtt = await withTimeout(this.nc.rtt(), 'NATS did not answer a ping');
      return [{ name: 'nats', ok: true, detail: `connected to ${connectedServer(this.nc)} (round trip ${rtt} ms)` }];
    } catch (error) {
      return [
        {
          name: 'nats',
          ok: false,
          detail: `not connected: ${(error as Error).message}`,
          fix:
            'the stack does not restart NATS: `npm run hub:down && npm run hub` starts it again on the same store ' +
            `(its log: ${join(dirname(this.logDir), 'nats', 'nats-server.log')}); with NATS_URL set, start that server`,
        },
      ];
    }
  }

  private async eventStream(): Promise<HealthCheck[]> {
    const name = `jetstream stream ${EVENT_STREAM.name}`;
    try {
      const jsm = await withTimeout(this.nc.jetstreamManager({ timeout: HEALTH_TIMEOUT_MS }), 'JetStream did not answer');
      const info = await withTimeout(jsm.streams.info(EVENT_STREAM.name), 'JetStream did not answer');
      return [{ name, ok: true, detail: `${info.state.messages} events stored${copiesOf(info)}` }];
    } catch (error) {
      if (isNotFound(error)) {
        return [
          {
            name,
            ok: false,
            detail: 'the event stream does not exist yet',
            fix: `the session-registry creates it when it starts; ${serviceFix('session-registry', this.logDir)}`,
          },
        ];
      }
      return [{ name, ok: false, detail: `JetStream unavailable: ${(error as Error).message}`, fix: 'run nats-server with JetStream enabled (-js); `npm run hub` does' }];
    }
  }

  /** Every runner the registry knows; the registry's own check says when it does not answer. */
  private async runners(): Promise<HealthCheck[]> {
    try {
      const list = await this.rpc.call(RPC.listRunners, {});
      if (!list.watchingSince && !list.runners.length) {
        return [{ name: 'runners', ok: true, detail: "the registry has not read the runners' heartbeats yet" }];
      }
      return list.runners.map(runnerCheck);
    } catch (error) {
      return [{ name: 'runners', ok: false, detail: `the registry did not list the runners: ${(error as Error).message}`, fix: serviceFix('session-registry', this.logDir) }];
    }
  }

  private async service(service: string, subject: typeof RPC.registryHealth | typeof RPC.resolverHealth | typeof RPC.runnerHealth): Promise<HealthCheck[]> {
    try {
      const report = await this.rpc.call(subject, {});
      return [
        { name: service, ok: true, detail: `${report.service} answered` },
        ...report.checks.map((check) => ({ ...check, name: `${service}/${check.name}` })),
      ];
    } catch (error) {
      return [{ name: service, ok: false, detail: (error as Error).message, fix: serviceFix(service, this.logDir) }];
    }
  }
}

/**
 * The server this connection is on: its address, and on a cluster its name, the cluster's, and how
 * many servers the cluster told it of (the client moves to one of them if this one goes).
 */
function connectedServer(nc: NatsConnection): string {
  const info = nc.info;
  if (!info?.cluster) return nc.getServer();
  const servers = info.connect_urls?.length ?? 1;
  return `${info.server_name} (${nc.getServer()}) of cluster ${info.cluster}, ${servers} server${servers === 1 ? '' : 's'}`;
}

/** On a cluster: the stream's copies, its leader, and how each other copy is doing (nothing for a stream of one server). */
function copiesOf(info: StreamInfo): string {
  const cluster = info.cluster;
  if (!cluster || info.config.num_replicas <= 1) return '';
  const replicas = (cluster.replicas ?? []).map(
    (r) => `${r.name} ${r.offline ? 'offline' : r.current ? 'current' : `behind (${r.lag ?? 0} operations, last heard ${Math.round(r.active / 1e9)} s ago)`}`,
  );
  return `; ${info.config.num_replicas} copies, leader ${cluster.leader ?? 'none'}${replicas.length ? `, ${replicas.join(', ')}` : ''}`;
}

/** A runner's lease, as readiness says it. */
function runnerCheck(runner: RunnerView): HealthCheck {
  const name = `runners/${runner.runnerId}`;
  const labels = runner.labels.length ? `, labels ${runner.labels.join(',')}` : '';
  const holds = `holds ${runner.holds} session${runner.holds === 1 ? '' : 's'}`;
  if (runner.status === 'alive') {
    return { name, ok: true, detail: `alive: ${runner.inUse} of ${runner.slots} slots in use${labels}; last heartbeat ${runner.silentSeconds} s ago; ${holds}` };
  }
  const silence = `no heartbeat since ${runner.lastSeenAt} (lease grace ${runner.graceSeconds} s)`;
  if (runner.holds === 0) return { name, ok: true, detail: `lost: ${silence}; holds no session (forgotten after a day)` };
  return {
    name,
    ok: false,
    detail: `lost: ${silence}; ${holds}, going back to ready for the other runners`,
    fix:
      `the registry moves them within seconds (HUB_RUNNER_LEASE_GRACE_SECONDS); if this stays, the session-registry's log says why. ` +
      `Look at the host of runner ${runner.runnerId}: one that comes back with the same HUB_RUNNER_ID removes the stale containers, reporting nothing`,
  };
}

async function withTimeout<T>(promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
