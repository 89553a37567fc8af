import type { HubLogger } from './logger';

let installed = false;

/**
 * The last line of defence of every service, installed once at startup:
 * - a promise rejected with nobody to catch it is logged (message and stack, secrets masked) and
 *   the service goes on: one forgotten `await` must not take every session down with it;
 * - an exception nobody caught leaves the process in an unknown state: it is logged and the
 *   process exits with code 1, so the stack's supervisor starts a clean one (JetStream redelivers
 *   the events it had not acknowledged).
 */
export function installProcessHandlers(logger: HubLogger, env: NodeJS.ProcessEnv = process.env): void {
  if (installed) return;
  installed = true;
  const mask = secretMasker(env);
  process.on('unhandledRejection', (reason) => {
    const error = describeFailure(reason, mask);
    logger.error({ err: error }, `unhandled promise rejection (logged, the service goes on): ${error.message}`);
  });
  process.on('uncaughtException', (thrown, origin) => {
    const error = describeFailure(thrown, mask);
    try {
      logger.fatal({ err: error, origin }, `uncaught exception, exiting so that the service is restarted clean: ${error.message}`);
    } finally {
      process.exit(1);
    }
  });
}

/** What is logged of a failure: its type, message and stack (at most 20 lines), secrets masked. */
export function describeFailure(reason: unknown, mask: (text: string) => string = (t) => t): { type: string; message: string; stack?: string } {
  if (reason instanceof Error) {
    const stack = reason.stack?.split('\n').slice(0, 20).join('\n');
    return { type: reason.name, message: mask(reason.message), ...(stack ? { stack: mask(stack) } : {}) };
  }
  let message: string;
  try {
    message = typeof reason === 'string' ? reason : JSON.stringify(reason) ?? String(reason);
  } catch {
    message = String(reason);
  }
  return { type: typeof reason, message: mask(message.slice(0, 2_000)) };
}

const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CREDENTIAL/i;

/**
 * Replaces, in a text, the values of the environment's secrets (variables named like a token,
 * password, key or secret, and HUB_SECRET_*) by [masked:NAME], and the password of any
 * scheme://user:password@ URL by [masked].
 */
export function secretMasker(env: NodeJS.ProcessEnv): (text: string) => string {
  const secrets = Object.entries(env)
    .filter((entry): entry is [string, string] => SECRET_NAME.test(entry[0]) && typeof entry[1] === 'string' && entry[1].length >= 6)
    .sort((a, b) => b[1].length - a[1].length);
  return (text) => {
    let masked = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]+@/gi, '$1:[masked]@');
    for (const [name, value] of secrets) masked = masked.split(value).join(`[masked:${name}]`);
    return masked;
  };
}
