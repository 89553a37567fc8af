import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The Hub-Signature-256 header of a delivery attempt: `sha256=` and the hex HMAC-SHA256, keyed with
 * the webhook's secret, of `<timestamp>.<body>` (the timestamp being the Hub-Timestamp header, unix
 * seconds), so a receiver can tell the body came from Hub and refuse an old one replayed.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver checks (in constant time): the signature is the body's, with this secret and timestamp. */
export function verifyWebhookSignature(secret: string, timestamp: number | string, body: string, signature: string): boolean {
  const expected = Buffer.from(webhookSignature(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
