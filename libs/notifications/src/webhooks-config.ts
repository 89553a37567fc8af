import { readFileSync, statSync } from 'node:fs';
import { describeIssues, Webhook, WebhookNameSchema, WebhooksConfigSchema } from '@hub/contracts';

/** Where the operator puts the webhooks: the JSON inline, or a file of it (which should be 0600). */
export interface WebhookSources {
  HUB_WEBHOOKS?: string;
  HUB_WEBHOOKS_FILE?: string;
}

export interface LoadedWebhooks {
  webhooks: Webhook[];
  /** Worth telling the operator, not worth refusing to start: a file others may read. */
  warnings: string[];
}

/**
 * Reads and validates the webhooks (none when neither variable is set). Anything wrong throws,
 * naming the variable, the webhook and the field; no message quotes a value, so none carries a secret.
 */
export function loadWebhooks(sources: WebhookSources): LoadedWebhooks {
  const { HUB_WEBHOOKS: inline, HUB_WEBHOOKS_FILE: file } = sources;
  if (inline && file) throw new Error('HUB_WEBHOOKS and HUB_WEBHOOKS_FILE are both set: set one of them');
  if (!inline && !file) return { webhooks: [], warnings: [] };
  const origin = file ? `HUB_WEBHOOKS_FILE=${file}` : 'HUB_WEBHOOKS';
  const warnings: string[] = [];
  let text: string;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
      const mode = statSync(file).mode & 0o777;
      if (mode & 0o077) {
        warnings.push(`${origin} may be read by others (mode 0${mode.toString(8)}); it holds the webhooks' secrets: chmod 600 it`);
      }
    } catch (error) {
      throw new Error(`${origin} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else {
    text = inline!;
  }
  return { webhooks: parseWebhooks(text, origin), warnings };
}

/** The webhooks a JSON text lists, validated; throws naming `origin` and every problem. */
export function parseWebhooks(text: string, origin: string): Webhook[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8's message may quote the text around the mistake, secret included: only where it is.
    const at = /position (\d+)/.exec((error as Error).message);
    throw new Error(`${origin} is not valid JSON${at ? ` (at character ${at[1]})` : ''}`);
  }
  const parsed = WebhooksConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error).map(({ field, problem }, i) => {
      const issue = parsed.error.issues[i];
      // An unknown field is named by its key; every other problem by where it is.
      const where = issue.code === 'unrecognized_keys' ? [...issue.path, field] : issue.path;
      return `${placeOf(where, raw)}: ${problem}`;
    });
    throw new Error(`${origin} is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** `[0, 'secret']` → `webhook 1 ("ci").secret`, so the operator finds the one meant. */
function placeOf(path: readonly PropertyKey[], raw: unknown): string {
  if (!path.length) return 'the list';
  const [index, ...rest] = path;
  if (typeof index !== 'number' || !Array.isArray(raw)) return path.map(String).join('.');
  const name = (raw[index] as { name?: unknown } | undefined)?.name;
  const named = WebhookNameSchema.safeParse(name).success ? ` ("${name as string}")` : '';
  return [`webhook ${index + 1}${named}`, ...rest.map(String)].join('.');
}
