import { API_KEY_TOKEN_PATTERN } from '@hub/contracts';
import { hashSecret, newApiKeyToken, parseApiKeyToken, secretMatches } from './api-key-token';

describe('an API key token', () => {
  const pepper = 'p'.repeat(43);

  it('is hub_, the key id without dashes and 43 characters of secret, parsed back to both', () => {
    const { id, token, secretHash } = newApiKeyToken(pepper);
    expect(token).toMatch(API_KEY_TOKEN_PATTERN);
    expect(token.startsWith(`hub_${id.replace(/-/g, '')}_`)).toBe(true);
    const parsed = parseApiKeyToken(token)!;
    expect(parsed.id).toBe(id);
    expect(parsed.secret).toHaveLength(43);
    expect(secretHash).toEqual(hashSecret(pepper, parsed.secret));
  });

  it('is hashed with the pepper (HMAC-SHA256), never kept: the hash holds neither the token nor its secret', () => {
    const { token, secretHash } = newApiKeyToken(pepper);
    const { secret } = parseApiKeyToken(token)!;
    expect(secretHash).toHaveLength(32);
    expect(secretHash.toString('hex')).not.toContain(Buffer.from(secret).toString('hex'));
    expect(hashSecret('q'.repeat(43), secret)).not.toEqual(secretHash);
  });

  it('matches only its own secret, with the same pepper', () => {
    const { token, secretHash } = newApiKeyToken(pepper);
    const { secret } = parseApiKeyToken(token)!;
    expect(secretMatches(pepper, secret, secretHash)).toBe(true);
    expect(secretMatches(pepper, `${secret.slice(0, -1)}A`, secretHash)).toBe(secret.endsWith('A'));
    expect(secretMatches('q'.repeat(43), secret, secretHash)).toBe(false);
    expect(secretMatches(pepper, secret, Buffer.alloc(31))).toBe(false);
  });

  it('is not parsed from anything else', () => {
    const { token } = newApiKeyToken(pepper);
    for (const other of [token.slice(0, -1), `${token}x`, token.toUpperCase(), token.replace('hub_', 'hab_'), ` ${token}`, 'hub__', '']) {
      expect(parseApiKeyToken(other)).toBeNull();
    }
  });
});
