import type { Request, Response } from 'express';
import { apiTokenGuard, bearerTokenOf, gitTokenOf, tokensMatch } from './api-token.guard';

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
  const run = (guard: ReturnType<typeof apiTokenGuard>, authorization?: string) => {
    let passed: unknown = 'not called';
    guard({ headers: { authorization } } as Request, {} as Response, (error?: unknown) => (passed = error));
    return passed;
  };

  it('lets the right token through, and refuses with the challenge of its schemes', () => {
    const api = apiTokenGuard('abc123');
    const git = apiTokenGuard('abc123', 'git');
    expect(run(api, 'Bearer abc123')).toBeUndefined();
    expect(run(git, `Basic ${Buffer.from('git:abc123').toString('base64')}`)).toBeUndefined();
    expect(run(git, 'Bearer abc123')).toBeUndefined();
    expect(run(api, `Basic ${Buffer.from('git:abc123').toString('base64')}`)).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
    expect(run(git, undefined)).toMatchObject({ status: 401, headers: { 'WWW-Authenticate': 'Basic realm="Hub"' } });
    expect(run(git, `Basic ${Buffer.from('git:wrong').toString('base64')}`)).toMatchObject({ status: 401, message: 'invalid API token' });
  });
});
