import type { RequestHandler } from 'express';
import { HubLogger } from '@hub/config';

/** Probes and scrapes come every few seconds and say nothing about sessions: logged at debug. */
const ROUTINE_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * One structured line per request: method, path (no query), status, duration. Never headers. A
 * probe or scrape that went well is a debug line (LOG_LEVEL=debug shows them).
 */
export function requestLog(logger: HubLogger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const path = req.originalUrl.split('?')[0];
    res.once('close', () => {
      const ms = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
      const line = { method: req.method, path, status: res.statusCode, ms, ...(res.writableFinished ? {} : { aborted: true }) };
      if (res.statusCode >= 500) logger.warn(line, 'http request');
      else if (ROUTINE_PATHS.has(path) && res.statusCode < 400) logger.debug(line, 'http request');
      else logger.info(line, 'http request');
    });
    next();
  };
}
