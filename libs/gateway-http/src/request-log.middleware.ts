import type { RequestHandler } from 'express';
import { HubLogger } from '@hub/config';

/** One structured line per request: method, path (no query), status, duration. Never headers. */
export function requestLog(logger: HubLogger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.originalUrl.split('?')[0];
    res.once('close', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      const line = { method: req.method, path, status: res.statusCode, ms, ...(res.writableFinished ? {} : { aborted: true }) };
      if (res.statusCode >= 500) logger.warn(line, 'http request');
      else logger.info(line, 'http request');
    });
    next();
  };
}
