import {
  AckPolicy,
  Consumer,
  ConsumerConfig,
  ConsumerMessages,
  DeliverPolicy,
  JetStreamManager,
  JsMsg,
  nanos,
  NatsConnection,
} from 'nats';
import { AnyEvent, EVENT_STREAM, EventSubject, parseEventEnvelope } from '@hub/contracts';
import { decodeJson } from './nats-connection';

/** Where a reader of the event stream begins. */
export type EventReaderStart =
  /** With the event after this stream sequence (0: the first the stream holds). */
  | { after: number }
  /** With the first event stored at or after this instant. */
  | { since: Date }
  /** With the events published from now on. */
  | 'new';

/** An event as the stream holds it: its sequence, the envelope as published, and the envelope validated. */
export interface StoredEvent {
  seq: number;
  raw: string;
  event: AnyEvent;
}

export interface EventReaderOptions {
  start: EventReaderStart;
  /** Only this subject, filtered by the server; every subject of the stream when absent. */
  subject?: EventSubject;
  /** At most this many events are held here at once (one pull). Default 64. */
  batch?: number;
  /** An event that does not match its contract is skipped; this hears of it. */
  onInvalid?: (seq: number, error: Error) => void;
}

const DEFAULT_BATCH = 64;
/** How long one pull waits on a quiet stream before the next is sent (events arriving meanwhile come at once). */
const PULL_EXPIRES_MS = 30_000;
/** The server removes a consumer nobody pulled from for this long: one left by a gateway that died. */
const INACTIVE_THRESHOLD_MS = 5 * 60_000;

function startConfig(start: EventReaderStart): Partial<ConsumerConfig> {
  if (start === 'new') return { deliver_policy: DeliverPolicy.New };
  if ('after' in start) return { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.after + 1 };
  return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.since.toISOString() };
}

/**
 * Reads HUB_EVENTS in stream order through an ephemeral consumer of its own (in memory, no acks),
 * one pull of `batch` events at a time: the next pull is sent only once the caller has taken the
 * whole previous one, so a slow caller makes the stream wait, never this process's memory grow.
 * Like the client library's ordered consumer, it checks that each delivery follows the last one and
 * otherwise starts a new consumer after the last event it took; that one cannot be used here, as its
 * consume() refills its buffer as events arrive, read or not, and its fetch() drops what it had
 * buffered when a pull ends while the reader lags. close() deletes the consumer at once.
 */
export class EventReader {
  private consumer!: Consumer;
  private pulling: ConsumerMessages | null = null;
  /** The consumer's sequence of the last delivery taken, and the stream's (null: none taken yet, with a replay by time). */
  private delivered = 0;
  private cursor: number | null = null;
  private closed = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: EventReaderOptions,
  ) {}

  /** Resolves once the consumer exists on the server: from then on, every event from `start` on is kept for this reader. */
  static async open(nc: NatsConnection, options: EventReaderOptions): Promise<EventReader> {
    const { start } = options;
    const reader = new EventReader(nc, await nc.jetstreamManager(), options);
    reader.cursor = start !== 'new' && 'after' in start ? start.after : null;
    await reader.startConsumer(startConfig(start));
    reader.pulling = await reader.pull();
    return reader;
  }

  /** Every event from the start on, for as long as the caller reads; throws when the consumer fails (NATS gone). */
  async *events(): AsyncGenerator<StoredEvent> {
    while (!this.closed) {
      const batch = (this.pulling ??= await this.pull());
      if (this.closed) batch.stop();
      for await (const message of batch) {
        if (message.info.deliverySequence !== this.delivered + 1) {
          await this.startAfterCursor();
          break;
        }
        this.delivered = message.info.deliverySequence;
        this.cursor = message.seq;
        const stored = this.parse(message);
        if (stored) yield stored;
      }
      this.pulling = null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pulling?.stop();
    await this.deleteConsumer();
  }

  private async startConsumer(start: Partial<ConsumerConfig>): Promise<void> {
    const info = await this.jsm.consumers.add(EVENT_STREAM.name, {
      ...start,
      ...(this.options.subject ? { filter_subject: this.options.subject } : {}),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
    });
    this.consumer = await this.nc.jetstream().consumers.get(EVENT_STREAM.name, info.name);
    this.delivered = 0;
    if (start.deliver_policy === DeliverPolicy.New) this.cursor = info.delivered.stream_seq;
  }

  /** A delivery went missing (to a pull let go of): a new consumer, from the event after the last one taken. */
  private async startAfterCursor(): Promise<void> {
    this.pulling?.stop();
    await this.deleteConsumer();
    const from = this.cursor === null ? startConfig(this.options.start) : startConfig({ after: this.cursor });
    await this.startConsumer(from);
  }

  private deleteConsumer(): Promise<unknown> {
    return this.consumer.delete().catch(() => false);
  }

  private pull(): Promise<ConsumerMessages> {
    return this.consumer.fetch({ max_messages: this.options.batch ?? DEFAULT_BATCH, expires: PULL_EXPIRES_MS });
  }

  private parse(message: JsMsg): StoredEvent | null {
    const raw = Buffer.from(message.data).toString('utf8');
    try {
      return { seq: message.seq, raw, event: parseEventEnvelope(message.subject, decodeJson(message.data)) as AnyEvent };
    } catch (error) {
      this.options.onInvalid?.(message.seq, error as Error);
      return null;
    }
  }
}
