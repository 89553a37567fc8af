import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { API_KEY_TOKEN_PATTERN, API_KEY_TOKEN_PREFIX } from '@hub/contracts';

/** A new key: its id, its token (shown once, never kept) and the hash of its secret (kept). */
export interface NewApiKeyToken {
  id: string;
  token: string;
  secretHash: Buffer;
}

/** `hub_<id without dashes>_<32 random bytes, base64url: 43 characters>`. */
export function newApiKeyToken(pepper: string): NewApiKeyToken {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${API_KEY_TOKEN_PREFIX}${id.replace(/-/g, '')}_${secret}`, secretHash: hashSecret(pepper, secret) };
}

/** The key id and secret a token holds; null for anything not of the `hub_` form. */
export function parseApiKeyToken(token: string): { id: string; secret: string } | null {
  const match = API_KEY_TOKEN_PATTERN.exec(token);
  if (!match) return null;
  const hex = match[1];
  return { id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, secret: match[2] };
}

/**
 * HMAC-SHA256 of the secret, keyed with the registry's pepper: what is stored. The secret is 256
 * random bits, so a slow password hash would add nothing; the pepper (kept outside the database)
 * means a copy of the table alone cannot even be checked against a guessed token.
 */
export function hashSecret(pepper: string, secret: string): Buffer {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest();
}

/** Whether `secret` is the one `stored` was made of, compared in constant time. */
export function secretMatches(pepper: string, secret: string, stored: Buffer): boolean {
  const presented = hashSecret(pepper, secret);
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
