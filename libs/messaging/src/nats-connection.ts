import { connect, NatsConnection } from 'nats';
import { HubLogger } from '@hub/config';

/** Injection token for the service's one NATS connection. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

/**
 * Connects to NATS and keeps reconnecting for ever: a NATS restart pauses a service, it never ends it.
 */
export async function connectNats(url: string, name: string, logger: HubLogger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // The client otherwise builds an Error (a stack trace) for every request and JetStream publish, in
    // case it times out: a tenth of a millisecond each, which at thousands of events is most of the
    // publishing cost. Timeouts still fail with their NatsError, only without the async stack.
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect' || status.type === 'error') {
        logger.warn({ nats: status.type, server: String(status.data) }, `nats ${status.type}`);
      }
    }
  })();
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  return nc;
}

export const encodeJson = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
export const decodeJson = (data: Uint8Array): unknown => JSON.parse(Buffer.from(data).toString('utf8'));
