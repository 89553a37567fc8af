import { parseTenantRates, TenantRateLimiter } from './tenant-rate-limiter';

describe("a tenant's request rate", () => {
  it('lets a minute of requests through at once, then one per 60/rate seconds, each tenant on its own', () => {
    let now = 0;
    const limiter = new TenantRateLimiter({ perMinute: 120, perTenant: { slow: 3 } }, () => now);
    for (let i = 0; i < 3; i++) limiter.admit('slow');
    expect(() => limiter.admit('slow')).toThrow(expect.objectContaining({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '20' } }));
    for (let i = 0; i < 120; i++) limiter.admit('default');
    expect(() => limiter.admit('default')).toThrow(expect.objectContaining({ headers: { 'Retry-After': '1' } }));
    now += 5_000;
    expect(() => limiter.admit('slow')).toThrow(expect.objectContaining({ headers: { 'Retry-After': '15' } }));
    now += 15_000;
    limiter.admit('slow');
    expect(() => limiter.admit('slow')).toThrow(expect.objectContaining({ message: 'tenant slow is over its 3 requests a minute (HUB_TENANT_REQUESTS_PER_MINUTE); try again in 20 s' }));
  });

  it('fills up to a minute of requests, never more', () => {
    let now = 0;
    const limiter = new TenantRateLimiter({ perMinute: 2, perTenant: {} }, () => now);
    now += 3_600_000;
    limiter.admit('a');
    limiter.admit('a');
    expect(() => limiter.admit('a')).toThrow(expect.objectContaining({ status: 429 }));
  });

  it('is read from HUB_TENANT_REQUESTS_PER_MINUTE: a rate for every tenant, and some of their own', () => {
    expect(parseTenantRates('6000')).toEqual({ perMinute: 6000, perTenant: {} });
    expect(parseTenantRates('100, team-a=10,ci=20000')).toEqual({ perMinute: 100, perTenant: { 'team-a': 10, ci: 20000 } });
    expect(parseTenantRates('team-a=10')).toEqual({ perMinute: 6000, perTenant: { 'team-a': 10 } });
    expect(() => parseTenantRates('fast')).toThrow("'fast': a rate must be a whole number of requests a minute");
    expect(() => parseTenantRates('0')).toThrow("'0': a rate must be");
    expect(() => parseTenantRates('Team A=5')).toThrow("'Team A' is not a tenant's name");
  });
});
