import { bearerTokenOf, tokensMatch } from './api-token.guard';

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
