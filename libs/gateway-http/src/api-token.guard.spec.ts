import type { Request, Response } from 'express';
import type { Caller } from '@hub/contracts';
import { apiTokenGuard, bearerTokenOf, gitTokenOf } from './api-token.guard';
import { Authenticator, tokensMatch } from './auth/authenticator';
import { CallerContext } from './auth/caller-context';
import { TenantRateLimiter } from './auth/tenant-rate-limiter';

describe('bearer token check', () => {
  it('matches only the same token, whatever the lengths', () => {
    expect(tokensMatch('abc123', 'abc123')).toBe(true);
    expect(tokensMatch('abc124', 'abc123')).toBe(false);
    expect(tokensMatch('abc', 'abc123')).toBe(false);
    expect(tokensMatch('', 'abc123')).toBe(false);
  });

  it('reads "Bearer <token>" and says what is wrong otherwise', () => {
    expect(bearerTokenOf('Bearer abc')).toEqual({ token: 'abc' });
    expect(bearerTokenOf('bearer   abc ')).toEqual({ token: 'abc' });
    expect(bearerTokenOf(undefined)).toEqual({ problem: expect.stringMatching(/missing Authorization header/) });
    expect(bearerTokenOf('Basic dXNlcjpwYXNz')).toEqual({ problem: expect.stringMatching(/must be "Bearer <token>"/) });
    expect(bearerTokenOf('Bearer a b')).toHaveProperty('problem');
  });
});

describe('git credentials', () => {
  const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

  it('takes the token as the password of HTTP Basic, whatever the user name', () => {
    expect(gitTokenOf(basic('hub:abc123'))).toEqual({ token: 'abc123' });
    expect(gitTokenOf(basic(':abc123'))).toEqual({ token: 'abc123' });
    expect(gitTokenOf(basic('me:abc:123'))).toEqual({ token: 'abc:123' });
    expect(gitTokenOf(`basic  ${Buffer.from('x:t').toString('base64')} `)).toEqual({ token: 't' });
  });

  it('takes "Bearer <token>" too (git -c http.extraHeader)', () => {
    expect(gitTokenOf('Bearer abc123')).toEqual({ token: 'abc123' });
    expect(gitTokenOf('Bearer a b')).toHaveProperty('problem');
  });

  it('says what is wrong otherwise', () => {
    expect(gitTokenOf(undefined)).toEqual({ problem: expect.stringMatching(/^missing credentials; give the API token as the password/) });
    expect(gitTokenOf(basic('hub'))).toEqual({ problem: 'HTTP Basic credentials must be "<any user>:<API token>"' });
    expect(gitTokenOf(basic('hub:'))).toEqual({ problem: 'HTTP Basic credentials must be "<any user>:<API token>"' });
    expect(gitTokenOf('Basic not base64!')).toEqual({ problem: expect.stringMatching(/must be "Basic <base64 of user:token>" or "Bearer <token>"/) });
    expect(gitTokenOf('Digest x')).toHaveProperty('problem');
  });
});

describe('apiTokenGuard', () => {
  /** What the guard passed on to next (undefined: let through), and as which caller the rest would run. */
  const run = (guard: ReturnType<typeof apiTokenGuard>, authorization?: string, request: Partial<Request> = {}) =>
    new Promise<{ passed: unknown; caller?: Caller }>((resolve) => {
      const req = { headers: { authorization }, method: 'GET', baseUrl: '/api/v1', path: '/sessions', ...request } as Request;
      guard(req, {} as Response, (error?: unknown) => resolve({ passed: error, caller: error ? undefined : CallerContext.current() }));
    });

  it('lets the right token through as the bootstrap caller, and refuses with the challenge of its schemes', async () => {
    const api = apiTokenGuard('abc123');
    const git = apiTokenGuard('abc123', 'git');
    expect(await run(api, 'Bearer abc123')).toEqual({ passed: undefined, caller: { key: 'bootstrap', tenant: 'default', scope: 'admin' } });
    expect((await run(git, `Basic ${Buffer.from('git:abc123').toString('base64')}`)).passed).toBeUndefined();
    expect((await run(git, 'Bearer abc123')).passed).toBeUndefined();
    expect((await run(api, `Basic ${Buffer.from('git:abc123').toString('base64')}`)).passed).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    expect((await run(git, undefined)).passed).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Basic realm="Hub"' } });
    expect((await run(git, `Basic ${Buffer.from('git:wrong').toString('base64')}`)).passed).toMatchObject({ status: 401, message: 'invalid API token' });
  });

  describe('with API keys', () => {
    const readKey = `hub_${'a'.repeat(32)}_${'r'.repeat(43)}`;
    const keys: Record<string, Caller> = { [readKey]: { key: 'ci', tenant: 'team-a', scope: 'read' } };
    const authenticator = new Authenticator({ bootstrapToken: 'abc123', verifyKey: async (token) => keys[token] ?? null });

    it("runs the request as the key's caller, and refuses a route its scope does not allow with 403 naming both", async () => {
      const guard = apiTokenGuard(authenticator);
      expect(await run(guard, `Bearer ${readKey}`)).toEqual({ passed: undefined, caller: keys[readKey] });
      const post = await run(guard, `Bearer ${readKey}`, { method: 'POST', path: '/sessions/0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11/cancel' });
      expect(post.passed).toMatchObject({
        code: 'forbidden',
        message: 'this key (read) may not POST /api/v1/sessions/{id}/cancel: it needs the write scope',
      });
      expect((await run(guard, `Bearer ${readKey}`, { path: '/KEYS' })).passed).toMatchObject({ code: 'forbidden', message: expect.stringContaining('needs the admin scope') });
      // Not in the catalog: the router answers it (404); the scope check has nothing to say.
      expect((await run(guard, `Bearer ${readKey}`, { method: 'POST', path: '/nowhere' })).passed).toBeUndefined();
    });

    it('refuses an unknown or revoked key with 401', async () => {
      const guard = apiTokenGuard(authenticator);
      expect((await run(guard, `Bearer hub_${'b'.repeat(32)}_${'r'.repeat(43)}`)).passed).toMatchObject({ status: 401, message: 'invalid API key' });
      expect((await run(guard, `Bearer ${readKey.slice(0, -1)}`)).passed).toMatchObject({ status: 401, message: 'invalid API key' });
    });

    it("refuses with 429 and Retry-After once the caller's tenant is over its rate", async () => {
      const guard = apiTokenGuard(authenticator, 'bearer', { limiter: new TenantRateLimiter({ perMinute: 1000, perTenant: { 'team-a': 2 } }) });
      expect((await run(guard, `Bearer ${readKey}`)).passed).toBeUndefined();
      expect((await run(guard, `Bearer ${readKey}`)).passed).toBeUndefined();
      expect((await run(guard, `Bearer ${readKey}`)).passed).toMatchObject({ status: 429, code: 'rate_limited', headers: { 'Retry-After': '30' } });
      expect((await run(guard, 'Bearer abc123')).passed).toBeUndefined(); // another tenant: its own bucket
    });
  });
});
