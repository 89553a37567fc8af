import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { HubError, LIVE_LOG_STREAM, type LiveLogLine, type SessionView, unavailable } from '@hub/contracts';
import type { LogFollowOptions } from '@hub/hub-api';
import { isNotFound, LiveLogStream } from '@hub/messaging';
import { noLogMessage, readOutputStore, SessionFiles } from '../session-files.service';
import { attemptState, attemptToFollow, AttemptWatch, untilAttemptOver } from './followed-attempt';
import { hubNote, LogLines } from './log-lines';

/** How often a followed session is read, for an attempt whose end marker does not come (its runner died). */
const STATUS_POLL_MS = 3_000;
/**
 * How long, once the end marker came, the follow waits for the session to show the attempt over (the
 * runner stores the log and the outputs, captures the changes, then reports): so that when a follow
 * ends, the session's view and its stored log say so too.
 */
const END_CONFIRM_MS = 60_000;

/**
 * A session attempt's log as it is printed, for NatsHubApi.followSessionLog: its live log (HUB_LOGS)
 * read from the attempt's first message, as lines, until the attempt's end marker and the session
 * showing the attempt over (its log stored) — or, should the marker never come, until the session says
 * the attempt is over (read through the port every few seconds), or until the caller's signal aborts
 * (the client went). An attempt that has not started is waited for, at most the session's time
 * limit. An attempt that is over and no longer held live is read from its stored log instead (as `log` lines: the stored log keeps both streams together). When the
 * gateway stops, every follow ends (saying so), so that the server closes without waiting for them.
 */
@Injectable()
export class LiveSessionLogs implements BeforeApplicationShutdown {
  private readonly following = new Set<AbortController>();
  private stopping = false;

  constructor(
    private readonly stream: LiveLogStream,
    private readonly files: SessionFiles,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  /** Not found, before anything is read, when the attempt cannot come or has no log at all. */
  async follow(session: SessionView, options: LogFollowOptions, readSession: () => Promise<SessionView>): Promise<AsyncIterable<LiveLogLine>> {
    const attempt = attemptToFollow(session, options.attempt);
    const clientGone = options.signal ?? new AbortController().signal;
    if (attemptState(session, attempt) === 'ended' && !(await this.heldLive(session.id, attempt))) {
      const stored = await readOutputStore(() => this.files.storedLog(session, attempt));
      if (!stored) throw new HubError('not_found', noLogMessage(session, attempt));
      return storedLines(stored, finishedAt(session, attempt));
    }
    return this.liveLines(session, attempt, clientGone, readSession);
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const reading of this.following) reading.abort();
  }

  private async *liveLines(
    session: SessionView,
    attempt: number,
    clientGone: AbortSignal,
    readSession: () => Promise<SessionView>,
  ): AsyncGenerator<LiveLogLine> {
    const reading = new AbortController();
    const stopReading = () => reading.abort();
    clientGone.addEventListener('abort', stopReading, { once: true });
    this.following.add(reading);
    const startTimeoutMs = session.timeoutSeconds * 1000;
    const watch = new AttemptWatch(attempt, readSession, stopReading, { pollMs: STATUS_POLL_MS, startTimeoutMs });
    const lines = new LogLines();
    const log = this.logger.child({ sessionId: session.id, attempt });
    const onInvalid = (seq: number, error: Error) => log.warn({ seq, err: error.message }, 'live log: a message that breaks its schema was skipped');
    try {
      for await (const received of this.stream.read(session.id, attempt, reading.signal, onInvalid)) {
        watch.receivedOne(received.pending);
        yield* lines.ofMessage(received.message);
        if (received.message.end) {
          await untilAttemptOver(readSession, attempt, END_CONFIRM_MS, reading.signal);
          return;
        }
      }
    } catch (error) {
      if (isNotFound(error)) {
        yield hubNote(`no live log: JetStream has no stream ${LIVE_LOG_STREAM.name} (no runner has started since live logs came); the stored log is kept when the attempt ends`);
        return;
      }
      log.warn({ err: (error as Error).message }, 'live log: reading it failed');
      yield hubNote(`the live log could not be read further (${(error as Error).message}); the stored log is kept when the attempt ends`);
    } finally {
      watch.close();
      clientGone.removeEventListener('abort', stopReading);
      this.following.delete(reading);
    }
    if (clientGone.aborted) return;
    yield* lines.flush();
    if (this.stopping) yield hubNote('the gateway is stopping; follow again to go on');
    else if (watch.timedOut) yield hubNote(`attempt ${attempt} did not start within ${session.timeoutSeconds} s (the session's time limit); follow again to go on waiting`);
  }

  private async heldLive(sessionId: string, attempt: number): Promise<boolean> {
    try {
      return await this.stream.holds(sessionId, attempt);
    } catch (error) {
      throw unavailable(`cannot read the live logs (NATS JetStream): ${(error as Error).message}`);
    }
  }
}

/** When an attempt ended, as its session records it (ms since the epoch); now when it does not say. */
function finishedAt(session: SessionView, attempt: number): number {
  const ended = session.attempts.find((a) => a.attempt === attempt)?.finishedAt ?? session.finishedAt;
  return ended ? Date.parse(ended) : Date.now();
}

/** A stored log as lines, all `log` (it keeps stdout and stderr together), timed when the attempt ended. */
async function* storedLines(content: Readable, t: number): AsyncGenerator<LiveLogLine> {
  const lines = new LogLines();
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of content) yield* lines.push('log', decoder.write(chunk as Buffer), t);
    yield* lines.push('log', decoder.end(), t);
    yield* lines.flush();
  } finally {
    content.destroy();
  }
}
