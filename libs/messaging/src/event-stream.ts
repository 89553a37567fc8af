import { AckPolicy, DeliverPolicy, JetStreamManager, nanos, RetentionPolicy, StorageType, StreamConfig } from 'nats';
import { EVENT_STREAM, EventSubject } from '@hub/contracts';
import { natsReplicas } from './nats-connection';

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
 * Its copies: `replicas`, HUB_NATS_REPLICAS by default (see ensureStream).
 */
export async function ensureEventStream(jsm: JetStreamManager, options: { maxAgeDays?: number; replicas?: number } = {}): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: EVENT_STREAM.name,
    subjects: [...EVENT_STREAM.subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
  if (options.maxAgeDays !== undefined) config.max_age = nanos(options.maxAgeDays * DAY_MS);
  await ensureStream(jsm, config, { max_age: nanos(DEFAULT_EVENTS_MAX_AGE_DAYS * DAY_MS) }, options.replicas);
}

/**
 * Creates a stream, or brings an existing one to `config` (what may not change, a stream's storage, is
 * refused); what `config` leaves out an existing stream keeps. `whenCreated`: settings only a stream
 * made here takes, beneath `config`. A stream is made with `replicas` copies (HUB_NATS_REPLICAS by
 * default); one that has fewer is raised to them (JetStream forms the larger group and copies the
 * messages to the new peers; this returns once it serves again), one that has more keeps them:
 * lowering is an operator's decision (`nats stream edit --replicas`), never a side effect of a
 * process started with the default.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  whenCreated: Partial<StreamConfig> = {},
  replicas: number = natsReplicas(),
): Promise<void> {
  await whileJetStreamSettles(() => ensureStreamOnce(jsm, config, whenCreated, replicas));
}

async function ensureStreamOnce(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  whenCreated: Partial<StreamConfig>,
  replicas: number,
): Promise<void> {
  const update = async () => {
    const raise = raisedReplicas((await jsm.streams.info(config.name)).config, replicas);
    await jsm.streams.update(config.name, { ...config, ...raise });
    if (raise.num_replicas) await untilServedByReplicas(jsm, config.name, raise.num_replicas);
  };
  try {
    await update();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      await jsm.streams.add({ ...whenCreated, ...config, num_replicas: replicas });
    } catch (addError) {
      // Another service made it meanwhile (with its own `whenCreated`): brought to `config` as one that existed.
      if (!isStreamNameTaken(addError)) throw addError;
      await update();
    }
  }
}

/**
 * Raises the stream behind a KV bucket (`KV_<bucket>`) or an object store (`OBJ_<bucket>`) to
 * `replicas` copies when it has fewer. The client makes a missing bucket with the replicas it is
 * given, but leaves an existing one as it is: this is how a bucket made on one server gets its copies
 * once the deployment is a cluster. Called by the bucket's writer, the principal that may update it.
 */
export async function ensureStreamReplicas(jsm: JetStreamManager, stream: string, replicas: number = natsReplicas()): Promise<void> {
  const raise = raisedReplicas((await whileJetStreamSettles(() => jsm.streams.info(stream))).config, replicas);
  if (!raise.num_replicas) return;
  await jsm.streams.update(stream, raise);
  await untilServedByReplicas(jsm, stream, raise.num_replicas);
}

/** How long a stream raised to more copies may take to have its leader and every copy again. */
const RAISE_TIMEOUT_MS = 30_000;

/**
 * Waits until a stream just raised to `replicas` copies has a leader and all its copies current:
 * JetStream forms the larger group anew, and until it has a leader the stream takes no message (a
 * publish meanwhile is refused or times out).
 */
async function untilServedByReplicas(jsm: JetStreamManager, stream: string, replicas: number): Promise<void> {
  const deadline = Date.now() + RAISE_TIMEOUT_MS;
  let problem = 'not asked yet';
  while (Date.now() < deadline) {
    try {
      const { cluster } = await jsm.streams.info(stream);
      const copies = cluster?.replicas ?? [];
      if (cluster?.leader && copies.length >= replicas - 1 && copies.every((copy) => copy.current && !copy.offline)) return;
      problem = cluster?.leader ? `${copies.filter((copy) => copy.current).length + 1} of ${replicas} copies current` : 'no leader';
    } catch (error) {
      problem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`stream ${stream} raised to ${replicas} copies is not served by them after ${RAISE_TIMEOUT_MS} ms (${problem})`);
}

/** `{ num_replicas }` when a stream has fewer copies than `replicas`, else nothing to change. */
function raisedReplicas(current: Pick<StreamConfig, 'num_replicas'>, replicas: number): Partial<StreamConfig> {
  return (current.num_replicas || 1) < replicas ? { num_replicas: replicas } : {};
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
  await whileJetStreamSettles(async () => {
    try {
      await jsm.consumers.info(EVENT_STREAM.name, durable);
      await jsm.consumers.update(EVENT_STREAM.name, durable, { ack_wait: config.ack_wait });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await jsm.consumers.add(EVENT_STREAM.name, config);
    }
  });
}

/** How long a service starting on a cluster waits for JetStream to answer its stream and consumer requests. */
const SETTLE_TIMEOUT_MS = 60_000;

/**
 * Runs `setUp` (idempotent stream or consumer set-up) again while JetStream does not answer in time:
 * on a cluster that has just formed, or whose stream is being raised to more copies or is electing a
 * leader, its API requests time out for a few seconds (each after 5 s), and a service starting then
 * would otherwise exit. Any other error is thrown at once; so is a timeout past SETTLE_TIMEOUT_MS.
 */
export async function whileJetStreamSettles<T>(setUp: () => Promise<T>, timeoutMs = SETTLE_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 250; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    try {
      return await setUp();
    } catch (error) {
      if (!isJetStreamUnsettled(error) || Date.now() + delayMs > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** A request JetStream did not answer in time, or had no one to answer (no leader yet). */
function isJetStreamUnsettled(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { code?: number } } | undefined;
  return e?.code === 'TIMEOUT' || e?.code === '503' || e?.api_error?.code === 503;
}

export function isNotFound(error: unknown): boolean {
  const e = error as { code?: string; api_error?: { code?: number } } | undefined;
  return e?.code === '404' || e?.api_error?.code === 404;
}
