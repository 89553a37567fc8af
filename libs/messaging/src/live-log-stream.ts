import { DiscardPolicy, JetStreamClient, JetStreamManager, nanos, NatsConnection, RetentionPolicy, StorageType } from 'nats';
import { LIVE_LOG_STREAM, LiveLogMessage, LiveLogMessageSchema, liveLogSubject } from '@hub/contracts';
import { ensureStream, isNotFound } from './event-stream';
import { decodeJson, encodeJson } from './nats-connection';

/** How much of the live logs the stream keeps: the oldest messages go first once either is passed. */
export interface LiveLogLimits {
  maxBytes: number;
  maxAgeMs: number;
}

/** A day: long enough to follow, or replay, what ran today; the stored log is kept for good. */
export const LIVE_LOG_MAX_AGE_MS = 24 * 3600_000;

/** How long JetStream remembers a message id: an attempt's end is stored once, whoever publishes it. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A publish not acknowledged by then fails (the runner counts its output as not shown live). */
const PUBLISH_TIMEOUT_MS = 5_000;
/** Messages pulled at once by a reader: at most this many (of up to 64 KiB of output each) wait in memory for a slow client. */
const READ_BATCH = 8;
/** How long a pull waits on a quiet attempt before the next is sent (messages arriving meanwhile come at once). */
const READ_EXPIRES_MS = 5_000;

/** Creates the live-log stream (HUB_LOGS), or brings an existing one to these limits (and `replicas` copies: ensureStream). */
export async function ensureLiveLogStream(jsm: JetStreamManager, limits: LiveLogLimits, replicas?: number): Promise<void> {
  await ensureStream(
    jsm,
    {
      name: LIVE_LOG_STREAM.name,
      subjects: [...LIVE_LOG_STREAM.subjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    },
    {},
    replicas,
  );
}

/** A message of an attempt's live log as read, and how many of the attempt's were stored after it then (0: caught up). */
export interface ReceivedLiveLog {
  message: LiveLogMessage;
  pending: number;
}

/**
 * The live logs on JetStream (HUB_LOGS, `logs.<sessionId>.<attempt>`): the runner publishes an
 * attempt's messages, the gateway reads them from the attempt's first. Messages are checked against
 * their schema on both sides.
 */
export class LiveLogStream {
  private readonly js: JetStreamClient;
  private manager: Promise<JetStreamManager> | null = null;

  constructor(private readonly nc: NatsConnection) {
    this.js = nc.jetstream();
  }

  async ensure(limits: LiveLogLimits): Promise<void> {
    await ensureLiveLogStream(await this.jsm(), limits);
  }

  /** Publishes one message of an attempt, acknowledged within 5 s or failed; with an id, JetStream stores it once. */
  async publish(sessionId: string, attempt: number, message: LiveLogMessage, messageId?: string): Promise<void> {
    const checked = LiveLogMessageSchema.parse(message);
    await this.js.publish(liveLogSubject(sessionId, attempt), encodeJson(checked), {
      timeout: PUBLISH_TIMEOUT_MS,
      ...(messageId ? { msgID: messageId } : {}),
    });
  }

  /** Removes what an attempt published (an adopted container's log is read again from its start). */
  async discard(sessionId: string, attempt: number): Promise<void> {
    await (await this.jsm()).streams.purge(LIVE_LOG_STREAM.name, { filter: liveLogSubject(sessionId, attempt) });
  }

  /** Whether the stream still holds anything of an attempt (not when there is no stream). */
  async holds(sessionId: string, attempt: number): Promise<boolean> {
    try {
      await (await this.jsm()).streams.getMessage(LIVE_LOG_STREAM.name, { last_by_subj: liveLogSubject(sessionId, attempt) });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * An attempt's messages from its first, as they are stored, until `signal` aborts (or NATS fails:
   * it throws; a missing stream is a not-found error before anything is read). Read through an
   * ephemeral ordered consumer, deleted at the end, a few messages per pull, the next pull sent only
   * once the caller took the previous ones: a slow reader makes the stream wait, never this
   * process's memory grow. A message that breaks the schema is skipped and told to `onInvalid`.
   */
  async *read(
    sessionId: string,
    attempt: number,
    signal: AbortSignal,
    onInvalid: (seq: number, error: Error) => void,
  ): AsyncGenerator<ReceivedLiveLog> {
    const consumer = await this.js.consumers.get(LIVE_LOG_STREAM.name, { filterSubjects: liveLogSubject(sessionId, attempt) });
    try {
      while (!signal.aborted) {
        const batch = await consumer.fetch({ max_messages: READ_BATCH, expires: READ_EXPIRES_MS });
        const stop = () => batch.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const received of batch) {
            const parsed = LiveLogMessageSchema.safeParse(parseJson(received.data));
            if (parsed.success) yield { message: parsed.data, pending: received.info.pending };
            else onInvalid(received.seq, parsed.error);
          }
        } finally {
          signal.removeEventListener('abort', stop);
          batch.stop();
        }
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
  }

  private jsm(): Promise<JetStreamManager> {
    this.manager ??= this.nc.jetstreamManager().catch((error) => {
      this.manager = null;
      throw error;
    });
    return this.manager;
  }
}

/** Not JSON is a message that breaks the schema, not a failure of the read. */
function parseJson(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}
