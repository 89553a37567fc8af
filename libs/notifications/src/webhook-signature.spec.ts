import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, webhookSignature } from './webhook-signature';

describe('a delivery signature', () => {
  const secret = 'a-secret-of-sixteen+';
  const body = '{"id":"x","summary":"Session s completed."}';

  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(webhookSignature(secret, 1700000000, body)).toBe(`sha256=${expected}`);
  });

  it('verifies for that body, timestamp and secret only', () => {
    const signature = webhookSignature(secret, 1700000000, body);
    expect(verifyWebhookSignature(secret, '1700000000', body, signature)).toBe(true);
    expect(verifyWebhookSignature(secret, 1700000001, body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, 1700000000, `${body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('another-secret-of-16', 1700000000, body, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, 1700000000, body, 'sha256=00')).toBe(false);
  });
});
