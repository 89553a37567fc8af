import { TenantSchema } from '@hub/contracts';
import { HttpProblem } from '@hub/hub-api';

/** Requests a minute: every tenant's, and some tenants' own. */
export interface TenantRates {
  perMinute: number;
  perTenant: Readonly<Record<string, number>>;
}

export const DEFAULT_TENANT_REQUESTS_PER_MINUTE = 6000;

/**
 * HUB_TENANT_REQUESTS_PER_MINUTE: `6000` (every tenant), or with tenants of their own,
 * `6000,team-a=600,ci=20000`. Throws, naming the entry, when it is not that.
 */
export function parseTenantRates(spec: string): TenantRates {
  const rates: TenantRates = { perMinute: DEFAULT_TENANT_REQUESTS_PER_MINUTE, perTenant: {} };
  const perTenant: Record<string, number> = {};
  for (const entry of spec.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [name, value] = entry.includes('=') ? entry.split('=', 2).map((part) => part.trim()) : [undefined, entry];
    const count = Number(value);
    if (!/^\d+$/.test(value) || count < 1 || count > 10_000_000) throw new Error(`'${entry}': a rate must be a whole number of requests a minute, 1 to 10,000,000`);
    if (name === undefined) rates.perMinute = count;
    else if (!TenantSchema.safeParse(name).success) throw new Error(`'${entry}': '${name}' is not a tenant's name`);
    else perTenant[name] = count;
  }
  return { ...rates, perTenant };
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One token bucket per tenant, after authentication: it holds a minute's requests (the burst) and
 * fills at the tenant's rate. An empty bucket refuses with 429 and `Retry-After`: the whole seconds
 * until it holds a request again. In the gateway's memory: each gateway counts its own requests.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly rates: TenantRates,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from `tenant`'s bucket, or throws the 429 saying when to come back. */
  admit(tenant: string): void {
    const perMinute = this.rates.perTenant[tenant] ?? this.rates.perMinute;
    const perMs = perMinute / 60_000;
    const now = this.now();
    const bucket = this.buckets.get(tenant) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(tenant, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
    throw new HttpProblem(
      429,
      'rate_limited',
      `tenant ${tenant} is over its ${perMinute} requests a minute (HUB_TENANT_REQUESTS_PER_MINUTE); try again in ${seconds} s`,
      { 'Retry-After': String(seconds) },
    );
  }
}
