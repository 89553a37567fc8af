import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HUB_LOGGER, type HubLogger } from '@hub/config';
import { LIVE_LOG_STREAM } from '@hub/contracts';
import { LiveLogLimits, LiveLogStream } from '@hub/messaging';
import { LIVE_LOG_LIMITS } from '../runner.tokens';
import { LiveLogPublisher } from './live-log-publisher';

/** How long the end of an attempt's live log may hold up the rest of the attempt (storing its log, reporting it). */
const END_PATIENCE_MS = 2_000;
const MB = 1024 * 1024;

/** An attempt's end marker is published with this id, so that it is stored once whoever publishes it. */
const endMarkerId = (sessionId: string, attempt: number) => `logs-end:${sessionId}:${attempt}`;

/**
 * The runner's side of the live logs (HUB_LOGS): the stream created, or brought to the configured
 * limits, as the runner starts; a publisher for each attempt whose output is captured; the end of an
 * attempt that captured nothing, for whoever follows it. Live logs are a view: nothing here fails an
 * attempt or holds it up for long.
 */
@Injectable()
export class LiveLogs implements OnApplicationBootstrap {
  constructor(
    private readonly stream: LiveLogStream,
    @Inject(LIVE_LOG_LIMITS) private readonly limits: LiveLogLimits,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const limits = this.limits;
    try {
      await this.stream.ensure(limits);
    } catch (error) {
      throw new Error(
        `cannot create the live-log stream ${LIVE_LOG_STREAM.name} (HUB_LIVE_LOG_MAX_MB=${Math.round(limits.maxBytes / MB)}): ${(error as Error).message}`,
      );
    }
    this.logger.info({ stream: LIVE_LOG_STREAM.name, maxBytes: limits.maxBytes, maxAgeMs: limits.maxAgeMs }, 'live-log stream ready');
  }

  /** The live log of an attempt whose output is captured from now on; `close` ends it. */
  open(sessionId: string, attempt: number, log: HubLogger): LiveLogPublisher {
    let warned = false;
    return new LiveLogPublisher({
      send: (message) => this.stream.publish(sessionId, attempt, message, message.end ? endMarkerId(sessionId, attempt) : undefined),
      onSendFailed: (error) => {
        if (warned) return;
        warned = true;
        log.warn({ err: error.message }, 'live log: a publish failed; its output is not shown live (the stored log keeps it)');
      },
    });
  }

  /** Publishes the rest of an attempt's live log and its end, waiting for them at most END_PATIENCE_MS. */
  async close(live: LiveLogPublisher, log: HubLogger): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_PATIENCE_MS)));
    await Promise.race([live.end(), patience]).finally(() => clearTimeout(timer));
    if (live.droppedBytes > 0) log.info({ liveLogDroppedBytes: live.droppedBytes }, 'live log: output not shown live (the stored log keeps it)');
  }

  /** Ends the live log of an attempt that captured no output (it never started): its followers stop. Never fails. */
  async ended(sessionId: string, attempt: number, log: HubLogger): Promise<void> {
    await this.stream
      .publish(sessionId, attempt, { chunks: [], end: true }, endMarkerId(sessionId, attempt))
      .catch((error: Error) => log.debug({ err: error.message }, 'live log: the end of the attempt could not be published'));
  }

  /** Forgets what an adopted attempt published: its container's log is read, and published, again from its start. */
  async restart(sessionId: string, attempt: number, log: HubLogger): Promise<void> {
    await this.stream
      .discard(sessionId, attempt)
      .catch((error: Error) => log.warn({ err: error.message }, 'live log: what the attempt published before could not be removed'));
  }
}
