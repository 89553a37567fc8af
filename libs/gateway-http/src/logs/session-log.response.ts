import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { HubLogger } from '@hub/config';
import type { LiveLogLine, SessionLogQuery } from '@hub/contracts';
import type { HubApi, HubFile } from '@hub/hub-api';
import { type LiveLogFormat, liveLogFormatFor } from './live-log-format';

/**
 * `GET /api/v1/sessions/:id/logs`: an attempt's stored log as text, or, with `follow=true`, its lines
 * as they are printed (NDJSON, or SSE for `Accept: text/event-stream`) until the attempt ends. Errors
 * before the answer starts (an unknown session, an attempt that cannot come) are thrown, for the
 * error filter to answer.
 */
export async function sendSessionLog(hub: HubApi, sessionId: string, query: SessionLogQuery, req: Request, res: Response, logger: HubLogger): Promise<void> {
  if (!query.follow) return sendFile(res, await hub.sessionLog(sessionId, query.attempt), logger);
  const clientGone = new AbortController();
  res.once('close', () => clientGone.abort());
  const lines = await hub.followSessionLog(sessionId, { attempt: query.attempt, signal: clientGone.signal });
  await writeLines(res, lines, liveLogFormatFor(req.headers.accept), clientGone.signal, logger);
}

/** A stored file, streamed as it is read; a client that leaves stops the read. */
async function sendFile(res: Response, file: HubFile, logger: HubLogger): Promise<void> {
  res.status(200).setHeader('Content-Type', file.contentType);
  try {
    await pipeline(file.content, res);
  } catch (error) {
    // A client that left is no failure; the object store's is.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      logger.warn({ err: (error as Error).message }, 'the log could not be sent whole');
    }
  }
}

/**
 * Writes each line as it comes, the headers at once (the client sees the follow start before the
 * first line). Backpressure: the next line is read only once the client has taken the previous ones
 * ('drain'), so a slow client slows the read of the live log, never this process's memory. Stops
 * reading when the client goes.
 */
async function writeLines(res: Response, lines: AsyncIterable<LiveLogLine>, format: LiveLogFormat, clientGone: AbortSignal, logger: HubLogger): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', format.contentType);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  if (format.start) res.write(format.start);
  try {
    for await (const line of lines) {
      if (clientGone.aborted) return;
      if (!res.write(format.line(line))) await drained(res);
    }
    if (!clientGone.aborted) res.end(format.end);
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'following the log failed');
    res.destroy();
  }
}

/** Once the client has taken what was written, or gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
