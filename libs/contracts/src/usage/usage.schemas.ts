import { z } from 'zod';

/**
 * What agents spend, and the budgets that cap it. An agent reports its usage in its output
 * (`usage.json`, AGENT_USAGE_FILE: Claude Code's image writes it from Claude's JSON result); the
 * runner reads it, bounded and validated, into `container.exited`; the registry adds it up per
 * session (every attempt) and per orchestration, and holds back or skips sessions a budget cannot cover.
 */

/** Where an agent leaves its usage report, relative to /hub/output. */
export const AGENT_USAGE_FILE = 'usage.json';
/** The runner reads at most this many bytes of it; a larger file is ignored (and said so in the log). */
export const MAX_AGENT_USAGE_FILE_BYTES = 64 * 1024;

/** A token count: whole, not negative, and below what any session could spend (10^12). */
const tokenCount = z.number().int().nonnegative().max(1e12);
/** Dollars: not negative, below a million per report. */
const dollars = z.number().nonnegative().max(1e6);
const isoTime = z.iso.datetime({ offset: true });

/** Tokens by kind, as the Anthropic API counts them (`cache_creation_input_tokens` is `cacheWrite`). */
export const TokenCountsSchema = z.object({
  input: tokenCount,
  output: tokenCount,
  cacheRead: tokenCount,
  cacheWrite: tokenCount,
});
export type TokenCounts = z.infer<typeof TokenCountsSchema>;

/**
 * What was spent: tokens by kind, their `total` (every kind: what a token budget counts), and the
 * cost in dollars when the agent gave one (null when none of the reports did: for subscription users
 * a cost is notional, and tokens are the unit that counts).
 */
export const UsageSchema = z.object({
  tokens: TokenCountsSchema.extend({ total: tokenCount.max(4e12) }),
  costUsd: dollars.max(1e9).nullable(),
});
export type Usage = z.infer<typeof UsageSchema>;

export const NO_USAGE: Usage = { tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 }, costUsd: null };

export function usageOf(tokens: TokenCounts, costUsd: number | null): Usage {
  return {
    tokens: { ...tokens, total: tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite },
    costUsd,
  };
}

/** Two usages added up (a session's attempts, an orchestration's sessions); a cost stays null only when both are. */
export function addUsage(a: Usage, b: Usage): Usage {
  return usageOf(
    {
      input: a.tokens.input + b.tokens.input,
      output: a.tokens.output + b.tokens.output,
      cacheRead: a.tokens.cacheRead + b.tokens.cacheRead,
      cacheWrite: a.tokens.cacheWrite + b.tokens.cacheWrite,
    },
    a.costUsd === null && b.costUsd === null ? null : roundCents((a.costUsd ?? 0) + (b.costUsd ?? 0)),
  );
}

/** Dollars kept to a millionth, so sums do not drift. */
function roundCents(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

/**
 * The agent's report, `/hub/output/usage.json` (the contract for any agent image): token counts by
 * kind (missing kinds count 0), the cost if it knows it, and, when the model's API refused it for a
 * rate or usage limit, `rateLimit` with when the limit resets (`resetAt`, or `retryAfterSeconds`) and
 * the API's message. Unknown fields are ignored; a report that does not parse is ignored whole.
 */
export const AgentUsageReportSchema = z.object({
  tokens: z
    .object({
      input: tokenCount.default(0),
      output: tokenCount.default(0),
      cacheRead: tokenCount.default(0),
      cacheWrite: tokenCount.default(0),
    })
    .default({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }),
  costUsd: dollars.nullable().optional(),
  rateLimit: z
    .object({
      resetAt: isoTime.optional(),
      retryAfterSeconds: z.number().nonnegative().max(7 * 24 * 3600).optional(),
      message: z.string().max(2000).optional(),
    })
    .nullable()
    .optional(),
});
export type AgentUsageReport = z.infer<typeof AgentUsageReportSchema>;

/**
 * A rate or usage limit the agent ran into, as the runner reports it: when it is expected to reset
 * (from the agent's report, or the runner's default wait, within its maximum) and the API's message.
 */
export const RateLimitSchema = z.object({
  resetAt: isoTime,
  message: z.string().max(300),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

export const BUDGET_EXHAUSTION_POLICIES = ['finish', 'stop'] as const;

/**
 * A cap on what an orchestration's sessions may spend: tokens (every kind, `Usage.tokens.total`),
 * dollars, or both. Before a session is handed to a runner, Hub checks that what is left covers it;
 * when it does not, the session ends `skipped` naming the budget. `onExhausted`: what happens to
 * sessions already running when the budget is spent (`finish`: they finish; `stop`: they are cancelled).
 */
export const BudgetSchema = z
  .strictObject({
    tokens: z.number().int().min(1).max(1e12).optional().describe('At most this many tokens (input, output and cache, all counted)'),
    usd: z.number().positive().max(1e6).optional().describe('At most this many dollars, as the agents report their cost'),
    onExhausted: z
      .enum(BUDGET_EXHAUSTION_POLICIES)
      .default('finish')
      .describe('When it is spent, sessions already running finish (default) or are stopped'),
  })
  .refine((budget) => budget.tokens !== undefined || budget.usd !== undefined, {
    message: 'must name tokens, usd or both',
  });
export type Budget = z.infer<typeof BudgetSchema>;

/** A budget as an orchestration's view shows it: its caps, what its sessions spent, what is left. */
export const BudgetStatusSchema = z.object({
  tokens: z.number().int().nullable(),
  usd: z.number().nullable(),
  onExhausted: z.enum(BUDGET_EXHAUSTION_POLICIES),
  /** Left of each cap (never below 0); null for a cap not set. */
  left: z.object({ tokens: z.number().int().nonnegative().nullable(), usd: z.number().nonnegative().nullable() }),
  /** True once what is left covers no further session: sessions not yet started are skipped. */
  exhausted: z.boolean(),
});
export type BudgetStatus = z.infer<typeof BudgetStatusSchema>;

/** The budget's thresholds that are announced (`orchestration.budget-threshold`) when crossed: 80 % and spent. */
export const BUDGET_THRESHOLDS = [80, 100] as const;

/** A sum over many orchestrations: a Usage, without the caps of one report (a tenant's total may pass them). */
const summedCount = z.number().int().nonnegative();
export const UsageTotalSchema = z.object({
  tokens: z.object({ input: summedCount, output: summedCount, cacheRead: summedCount, cacheWrite: summedCount, total: summedCount }),
  costUsd: z.number().nonnegative().nullable(),
});

/** At most this many keys are listed in a usage summary (those that spent most); the rest are summed as `others`. */
export const USAGE_SUMMARY_KEYS = 200;

export const UsageSummaryQuerySchema = z.strictObject({
  since: z
    .union([isoTime, z.iso.date()])
    .optional()
    .describe('Only the orchestrations created at or after this instant (ISO 8601; a date alone is midnight UTC)'),
});
export type UsageSummaryQuery = z.infer<typeof UsageSummaryQuerySchema>;

/** What the orchestrations one API key created spent. */
export const UsageByKeySchema = z.object({
  /** The key's name; null for orchestrations made before Hub recorded who created them. */
  key: z.string().nullable(),
  orchestrations: summedCount,
  usage: UsageTotalSchema,
});
export type UsageByKey = z.infer<typeof UsageByKeySchema>;

/**
 * What a tenant's orchestrations spent (those created since `since`, when given): in total, and per API
 * key that created them, most tokens first; past USAGE_SUMMARY_KEYS keys the rest are summed in `others`.
 * A cost is null when none of the orchestrations it sums reported one.
 */
export const UsageSummarySchema = z.object({
  tenant: z.string(),
  since: z.string().nullable(),
  orchestrations: summedCount,
  total: UsageTotalSchema,
  byKey: z.array(UsageByKeySchema).max(USAGE_SUMMARY_KEYS),
  others: z.object({ keys: summedCount, orchestrations: summedCount, usage: UsageTotalSchema }).nullable(),
});
export type UsageSummary = z.infer<typeof UsageSummarySchema>;

/** `since` as the instant it names (a date alone: midnight UTC), or null. */
export function usageSummarySince(query: UsageSummaryQuery): Date | null {
  if (!query.since) return null;
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(query.since) ? `${query.since}T00:00:00Z` : query.since);
}
