import { AckPolicy, ConsumerMessages, DeliverPolicy, NatsConnection } from 'nats';
import { AnyEvent, EVENT_STREAM, parseEventEnvelope } from '@hub/contracts';
import { decodeJson } from './nats-connection';
import { isNotFound } from './event-stream';

/** The durable consumer name an integration uses: `integration--<name>`. */
export function integrationDurableName(name: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) throw new Error(`integration name "${name}" must be letters, digits, "_" or "-"`);
  return `integration--${name}`;
}

export interface IntegrationSubscription {
  /** Each event, validated against the contracts, in stream order. Ack it once handled. */
  events(): AsyncIterable<{ event: AnyEvent; ack: () => void }>;
  stop(): Promise<void>;
  /** Deletes the durable consumer (an integration that is gone for good). */
  remove(): Promise<void>;
}

/**
 * Reads Hub's events as an integration: a durable consumer named by convention, from the first
 * event the stream holds, with explicit acks. Started after the fact it still receives the whole
 * history; restarted after downtime it continues from its last ack.
 */
export async function subscribeIntegration(
  nc: NatsConnection,
  name: string,
  filterSubject: string = 'session.*',
): Promise<IntegrationSubscription> {
  const durable = integrationDurableName(name);
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.consumers.info(EVENT_STREAM.name, durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(EVENT_STREAM.name, {
      durable_name: durable,
      filter_subject: filterSubject,
      deliver_policy: DeliverPolicy.All,
      ack_policy: AckPolicy.Explicit,
    });
  }
  const consumer = await nc.jetstream().consumers.get(EVENT_STREAM.name, durable);
  let messages: ConsumerMessages | undefined;
  return {
    async *events() {
      messages = await consumer.consume();
      for await (const message of messages) {
        let event: AnyEvent;
        try {
          event = parseEventEnvelope(message.subject, decodeJson(message.data)) as AnyEvent;
        } catch {
          message.term();
          continue;
        }
        yield { event, ack: () => message.ack() };
      }
    },
    async stop() {
      messages?.stop();
    },
    async remove() {
      messages?.stop();
      await jsm.consumers.delete(EVENT_STREAM.name, durable).catch(() => undefined);
    },
  };
}
