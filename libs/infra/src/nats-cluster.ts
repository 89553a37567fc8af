import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { freePort } from './free-port';
import type { NatsUser } from './nats-auth';
import { PortInUseError, startNatsServer, type NatsServer } from './nats-server';

export interface NatsClusterOptions {
  /** How many nats-server processes: 3 keeps every replicated stream through the loss of one, 5 of two. */
  nodes: number;
  /**
   * Where the nodes keep their JetStream stores, logs and configs: one directory each,
   * `<storeDir>/node-<n>`. Reusing it keeps the cluster's streams (each node knows its peers by name).
   */
  storeDir: string;
  /** The only users that may connect (every node has the same); anonymous connections without. */
  users?: NatsUser[];
  /** The cluster's name. Default `hub`. */
  name?: string;
  /** How long to wait for the nodes to start and JetStream to have a leader. Default 30 s. */
  startTimeoutMs?: number;
}

/** One nats-server of a cluster: a NatsServer (stop, kill, start, restart) with its name in the cluster. */
export interface NatsClusterNode extends NatsServer {
  serverName: string;
  /** Where it listens for the other nodes' routes (127.0.0.1). */
  clusterPort: number;
}

export interface NatsCluster {
  name: string;
  nodes: NatsClusterNode[];
  /** Every node's client URL, comma-separated: a client's (and every service's) NATS_URL. */
  url: string;
  /** The node of that server_name (a stream's `cluster.leader`, a connection's `info.server_name`). */
  node(serverName: string): NatsClusterNode;
  /**
   * Waits until JetStream answers through every running node: the cluster has a metadata leader,
   * which every node reaches (see waitForJetStream).
   */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Stops every node (gracefully, all at once). */
  stop(): Promise<void>;
}

const DEFAULT_NAME = 'hub';
const ROUTE_USER = 'hub-route';
const PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Starts a JetStream cluster of `nodes` nats-server processes on 127.0.0.1 (a client port and a route
 * port each, every node routed to every other, routes authenticated with a password generated for
 * this start), and returns once JetStream answers through every node. Each node is a NatsServer of
 * its own, in `<storeDir>/node-<n>`, as `startNatsServer` starts it; node n is `<name>-<n>`.
 */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  if (!Number.isInteger(options.nodes) || options.nodes < 2) {
    throw new Error(`a NATS cluster has at least 2 nodes (3 to survive losing one), not ${options.nodes}`);
  }
  const name = options.name ?? DEFAULT_NAME;
  const storeDir = resolve(options.storeDir);
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const routePassword = randomBytes(24).toString('hex');
  // Every port is chosen before any node starts (each node's routes name all the others'); one taken
  // meanwhile by someone else fails that start, and the whole cluster is started again on new ones.
  for (let attempt = 1; ; attempt++) {
    const clientPorts = await distinctFreePorts(options.nodes);
    const routePorts = await distinctFreePorts(options.nodes, clientPorts);
    const started = await Promise.allSettled(
      clientPorts.map((port, i) =>
        startNatsServer({
          storeDir: join(storeDir, `node-${i + 1}`),
          port,
          startTimeoutMs,
          users: options.users,
          cluster: {
            name,
            serverName: `${name}-${i + 1}`,
            port: routePorts[i]!,
            routes: routePorts.filter((_, j) => j !== i),
            routeUser: ROUTE_USER,
            routePassword,
          },
        }),
      ),
    );
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
      if (attempt < 3 && failed.reason instanceof PortInUseError) continue;
      throw failed.reason;
    }
    const nodes = started.map((result, i) =>
      Object.assign((result as PromiseFulfilledResult<NatsServer>).value, { serverName: `${name}-${i + 1}`, clusterPort: routePorts[i]! }),
    ) as NatsClusterNode[];
    const cluster = new LocalNatsCluster(name, nodes, options.users);
    try {
      await cluster.waitForJetStream(startTimeoutMs);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }
}

class LocalNatsCluster implements NatsCluster {
  readonly url: string;

  constructor(
    readonly name: string,
    readonly nodes: NatsClusterNode[],
    private readonly users: NatsUser[] | undefined,
  ) {
    this.url = nodes.map((node) => node.url).join(',');
  }

  node(serverName: string): NatsClusterNode {
    const node = this.nodes.find((n) => n.serverName === serverName);
    if (!node) throw new Error(`no node ${serverName} in NATS cluster ${this.name} (${this.nodes.map((n) => n.serverName).join(', ')})`);
    return node;
  }

  /**
   * Asks each running node, over a client connection of its own, for the account's JetStream
   * information (`$JS.API.INFO`). In a cluster only the metadata leader answers it, and while there is
   * none the node answers "JetStream system temporarily unavailable" (or nothing): an answer through
   * every node means there is a leader and every node is routed to it. A client connection, rather
   * than the monitoring endpoint (/jsz?leader-only), because the nodes serve no HTTP port: one more
   * listener on the host, unauthenticated, for a readiness check. The probe connects as the first of
   * `users` allowed `$JS.API.INFO` (every Hub service is), with its inbox prefix.
   */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const credentials = probeCredentials(this.users);
    let problem = 'no answer yet';
    for (const node of this.nodes) {
      if (!node.running) continue;
      for (;;) {
        problem = await jetStreamProblem(node, credentials);
        if (!problem) break;
        if (Date.now() > deadline) {
          throw new Error(`NATS cluster ${this.name}: JetStream did not answer through ${node.serverName} within ${timeoutMs} ms (${problem}); log ${node.logFile}`);
        }
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** Why JetStream does not answer through `node` now ('' once it does). */
async function jetStreamProblem(node: NatsClusterNode, credentials: ProbeCredentials): Promise<string> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: node.url, ...credentials, reconnect: false, timeout: PROBE_TIMEOUT_MS });
    const reply = await nc.request('$JS.API.INFO', undefined, { timeout: PROBE_TIMEOUT_MS });
    const answer = reply.json<{ error?: { code?: number; description?: string } }>();
    return answer.error ? `${answer.error.code} ${answer.error.description}` : '';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

interface ProbeCredentials {
  user?: string;
  pass?: string;
  inboxPrefix?: string;
}

/** Who asks for `$JS.API.INFO`: anonymous without users, else the first user allowed to, with an inbox it may subscribe to. */
function probeCredentials(users: NatsUser[] | undefined): ProbeCredentials {
  if (!users) return {};
  for (const { user, password, permissions } of users) {
    if (!permissions.publish.some((pattern) => subjectMatches(pattern, '$JS.API.INFO'))) continue;
    const inbox = permissions.subscribe.find((pattern) => pattern === '>' || (pattern.startsWith('_INBOX') && pattern.endsWith('.>')));
    if (!inbox) continue;
    return { user, pass: password, ...(inbox === '>' ? {} : { inboxPrefix: inbox.slice(0, -2) }) };
  }
  throw new Error('no NATS user may ask for $JS.API.INFO with an inbox of its own: the cluster cannot be checked');
}

/** Whether a NATS subject pattern (`*` one token, `>` the rest) covers `subject`. */
function subjectMatches(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const tokens = subject.split('.');
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] === '>') return tokens.length > i;
    if (i >= tokens.length || (wanted[i] !== '*' && wanted[i] !== tokens[i])) return false;
  }
  return wanted.length === tokens.length;
}

/** `count` free loopback ports, none the same as another or as one of `taken`. */
async function distinctFreePorts(count: number, taken: readonly number[] = []): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port) && !taken.includes(port)) ports.push(port);
  }
  return ports;
}
