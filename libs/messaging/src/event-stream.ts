import { AckPolicy, DeliverPolicy, JetStreamManager, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { EVENT_STREAM, EventSubject } from '@hub/contracts';

/** How long JetStream remembers message ids to drop duplicates (outbox re-relays, runner retries). */
const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** How many days the event stream keeps an event unless told otherwise (HUB_EVENTS_MAX_AGE_DAYS's default). */
export const DEFAULT_EVENTS_MAX_AGE_DAYS = 30;
const DAY_MS = 24 * 60 * 60_000;

/**
 * Creates the event stream, or brings an existing one to the configuration Hub expects. How long it
 * keeps an event (its max_age) is the registry's setting (HUB_EVENTS_MAX_AGE_DAYS), given as
 * `maxAgeDays` (0: forever) when the registry starts; every other service ensures the stream
 * without it, so a stream it creates keeps DEFAULT_EVENTS_MAX_AGE_DAYS and one that exists keeps its own.
 */
export async function ensureEventStream(jsm: JetStreamManager, options: { maxAgeDays?: number } = {}): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  if (options.maxAgeDays !== undefined) config.max_age = nanos(options.maxAgeDays * DAY_MS);
  await ensureStream(jsm, config, { max_age: nanos(DEFAULT_EVENTS_MAX_AGE_DAYS * DAY_MS) });
}

/**
 * Creates a stream, or brings an existing one to `config` (what may not change, a stream's storage, is
 * refused); what `config` leaves out an existing stream keeps. `whenCreated`: settings only a stream
 * made here takes, beneath `config`.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  whenCreated: Partial<StreamConfig> = {},
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    await jsm.streams.update(config.name, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add({ ...whenCreated, ...config });
    } catch (addError) {
      // Another service made it meanwhile (with its own `whenCreated`): brought to `config` as one that existed.
      if (!isStreamNameTaken(addError)) throw addError;
      await jsm.streams.update(config.name, config);
    }
  }
}

/** JetStream's "stream name already in use" (JSStreamNameExistErr). */
function isStreamNameTaken(error: unknown): boolean {
  return (error as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code === 10058;
}

/**
 * The durable consumer a service reads one subject through. NATS 2.9 allows one filter subject
 * per consumer, so a service has one durable per subject it handles: `<service>--<subject>`.
 */
export function durableName(service: string, subject: EventSubject): string {
  return `${service}--${subject.replace(/\./g, '_')}`;
}

/**
 * Makes the durable consumer of `subject` if it is missing (reading from the stream's first event, or,
 * `from: 'new'`, from the events published from now on), else sets its ack wait.
 */
export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  durable: string,
  subject: EventSubject,
  ackWaitMs: number,
  from: 'all' | 'new' = 'all',
): Promise<void> {
  const config = {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: from === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: nanos(ackWaitMs),
    max_ack_pending: 1000,
  };
  try {
    await jsm.consumers.info(EVENT_STREAM.name, durable);
    await jsm.consumers.update(EVENT_STREAM.name, durable, { ack_wait: config.ack_wait });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(EVENT_STREAM.name, config);
  }
}

export function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { code?: number } } | undefined;
  return e?.code === '404' || e?.api_error?.code === 404;
}
