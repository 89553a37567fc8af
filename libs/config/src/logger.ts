import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

export type HubLogger = Logger;

/** Injection token of the service's logger: every feature module provides it from its forRoot. */
export const HUB_LOGGER = Symbol('HUB_LOGGER');

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const REDACTED_KEYS = [
  'token',
  'apiToken',
  'authorization',
  'password',
  'secret',
  'secrets',
  'env',
  'ANTHROPIC_API_KEY',
  'GITHUB_TOKEN',
];

/** A structured (JSON) logger for a service. Every line carries the service name. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info'): HubLogger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Routes NestJS's own log lines into the service's pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: HubLogger) {}

  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
