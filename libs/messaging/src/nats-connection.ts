import { connect, createInbox, NatsConnection } from 'nats';
import { HubLogger, loadConfig, NatsReplicasConfigSchema } from '@hub/config';
import { busInboxPrefix, isBusPrincipal } from '@hub/contracts';

/** Injection token for the service's one NATS connection. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/** Who a service is on NATS: its user (NATS_USER) and password (NATS_PASSWORD). */
export interface NatsAuth {
  user?: string;
  password?: string;
}

const inboxPrefixes = new WeakMap<NatsConnection, string>();

/**
 * A new reply subject of this connection: under its principal's inbox prefix, the only inbox its
 * NATS user may subscribe to (plain `_INBOX` for an anonymous connection).
 */
export function inboxOf(nc: NatsConnection): string {
  return createInbox(inboxPrefixes.get(nc));
}

let replicas: number | undefined;

/**
 * How many copies JetStream keeps of each stream, object store and KV bucket this process creates
 * (HUB_NATS_REPLICAS: 1, or 3 or 5 on a cluster), read once through the config lib. Every service
 * has already validated it at boot with the rest of its configuration (CommonConfigSchema).
 */
export function natsReplicas(): number {
  replicas ??= loadConfig(NatsReplicasConfigSchema).HUB_NATS_REPLICAS;
  return replicas;
}

/**
 * Connects to NATS and keeps reconnecting for ever: a NATS restart pauses a service, it never ends it.
 * `url` may name several servers, comma-separated (a cluster's nodes): the client connects to one and
 * moves to another when it goes, learning the cluster's other nodes from the server too.
 * With `auth`, it connects as that user, its replies under the user's inbox prefix.
 */
export async function connectNats(url: string, name: string, logger: HubLogger, auth: NatsAuth = {}): Promise<NatsConnection> {
  const inboxPrefix = auth.user && isBusPrincipal(auth.user) ? busInboxPrefix(auth.user) : undefined;
  const nc = await connect({
    servers: natsServers(url),
    name,
    ...(auth.user ? { user: auth.user, pass: auth.password } : {}),
    ...(inboxPrefix ? { inboxPrefix } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // The client otherwise builds an Error (a stack trace) for every request and JetStream publish, in
    // case it times out: a tenth of a millisecond each, which at thousands of events is most of the
    // publishing cost. Timeouts still fail with their NatsError, only without the async stack.
    noAsyncTraces: true,
  });
  if (inboxPrefix) inboxPrefixes.set(nc, inboxPrefix);
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        logger.warn({ nats: status.type, server: String(status.data) }, `nats ${status.type}`);
      }
    }
  })();
  logger.info(
    { server: nc.getServer(), serverName: nc.info?.server_name, cluster: nc.info?.cluster ?? null, user: auth.user ?? null, replicas: natsReplicas() },
    'connected to NATS',
  );
  return nc;
}

/** The servers of a NATS_URL: `nats://a:4222,nats://b:4222` (spaces around the commas allowed). */
export function natsServers(url: string): string[] {
  const servers = url.split(',').map((server) => server.trim()).filter(Boolean);
  if (!servers.length) throw new Error('NATS_URL names no server');
  return servers;
}

export const encodeJson = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
export const decodeJson = (data: Uint8Array): unknown => JSON.parse(Buffer.from(data).toString('utf8'));
