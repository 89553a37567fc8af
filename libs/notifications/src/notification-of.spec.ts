import { HubNotificationSchema, SessionStatus, SlackNotificationSchema } from '@hub/contracts';
import { notificationBody } from './notification-body';
import { NotificationSource, notificationOf } from './notification-of';

const sessionId = '11111111-1111-4111-8111-111111111111';
const orchestrationId = '22222222-2222-4222-8222-222222222222';
const at = '2025-01-01T12:00:00.000Z';

const statusChanged = (to: SessionStatus, reason: string | null = null): NotificationSource => ({
  id: 'e1',
  subject: 'session.status-changed',
  occurredAt: at,
  data: { sessionId, orchestrationId, from: 'running', to, reason, exitCode: null, containerId: null, at },
});

describe('the notification an event makes', () => {
  it.each([
    ['completed', 'session.completed', 'completed: exited with code 0.'],
    ['failed', 'session.failed', 'failed: exited with code 0.'],
    ['timed_out', 'session.failed', 'timed out: exited with code 0.'],
    ['cancelled', 'session.cancelled', 'was cancelled: exited with code 0.'],
    ['skipped', 'session.skipped', 'was skipped: exited with code 0.'],
  ] as const)('a session moving to %s: %s', (to, kind, ending) => {
    expect(notificationOf(statusChanged(to, 'exited with code 0'))).toEqual({
      kind,
      summary: `Session ${sessionId} of orchestration ${orchestrationId} ${ending}`,
    });
  });

  it('none for a session moving to a status that does not end it', () => {
    for (const to of ['waiting', 'ready', 'starting', 'running'] as const) expect(notificationOf(statusChanged(to))).toBeNull();
  });

  it('a reason cut to one bounded line', () => {
    const { summary } = notificationOf(statusChanged('skipped', `A (x) failed\n${'← B '.repeat(200)}`))!;
    expect(summary).not.toContain('\n');
    expect(summary.length).toBeLessThan(450);
    expect(summary.endsWith('…')).toBe(true);
  });

  it('an orchestration that finished, a budget threshold, a rate limit', () => {
    expect(
      notificationOf({ id: 'e2', subject: 'orchestration.finished', occurredAt: at, data: { orchestrationId, status: 'failed', publish: null, at } }),
    ).toEqual({ kind: 'orchestration.finished', summary: `Orchestration ${orchestrationId} finished: failed.` });
    expect(
      notificationOf({
        id: 'e3',
        subject: 'orchestration.budget-threshold',
        occurredAt: at,
        data: { orchestrationId, cap: 'usd', threshold: 80, spent: 8.5, budget: 10 },
      }),
    ).toEqual({ kind: 'budget.threshold', summary: `Orchestration ${orchestrationId} has spent 80 % of its usd budget ($8.50 of $10.00).` });
    expect(
      notificationOf({
        id: 'e4',
        subject: 'orchestration.budget-threshold',
        occurredAt: at,
        data: { orchestrationId, cap: 'tokens', threshold: 100, spent: 1200, budget: 1000 },
      })?.summary,
    ).toBe(`Orchestration ${orchestrationId} has spent its whole tokens budget (1200 of 1000 tokens).`);
    expect(
      notificationOf({
        id: 'e5',
        subject: 'session.rate-limited',
        occurredAt: at,
        data: { sessionId, orchestrationId, image: 'hub/claude-code:latest', attempt: 2, resetAt: at, message: 'slow down' },
      }),
    ).toEqual({
      kind: 'session.rate-limited',
      summary: `Session ${sessionId} of orchestration ${orchestrationId} hit a rate or usage limit of its model's API (attempt 2); it runs again after ${at}.`,
    });
  });
});

describe('the body a webhook receives', () => {
  const event = statusChanged('failed', 'exited with code 3');
  const notification = notificationOf(event)!;
  const deliveryId = '33333333-3333-4333-8333-333333333333';

  it('hub: { id, kind, occurredAt, event, summary }, the event whole', () => {
    const body = HubNotificationSchema.parse(JSON.parse(notificationBody('hub', deliveryId, notification, event)));
    expect(body).toEqual({ id: deliveryId, kind: 'session.failed', occurredAt: at, event, summary: notification.summary });
    expect(Object.keys(JSON.parse(notificationBody('hub', deliveryId, notification, event)))).toEqual(['id', 'kind', 'occurredAt', 'event', 'summary']);
  });

  it("slack: { text }, the summary with Slack's control characters escaped", () => {
    const body = JSON.parse(notificationBody('slack', deliveryId, notification, event));
    expect(SlackNotificationSchema.strict().parse(body)).toEqual({ text: notification.summary });
    const mention = notificationOf(statusChanged('skipped', '<!channel> & <https://x|y>'))!;
    expect(JSON.parse(notificationBody('slack', deliveryId, mention, event)).text).toContain('&lt;!channel&gt; &amp; &lt;https://x|y&gt;');
  });
});
