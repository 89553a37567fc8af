import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationDeliveryPage, OrchestrationSummary, SessionView, UsageSummary } from '@hub/contracts';
import { docker } from './support/docker';
import { byName } from './support/timeline';
import { startTestStack, type TestStack } from './support/test-stack';

/** A test-agent prompt that reports spending `tokens` (all input) in /hub/output/usage.json, then does `then`. */
const spending = (tokens: number, then = 'true') => `echo '{"tokens":{"input":${tokens}}}' > /hub/output/usage.json; ${then}`;

const WEBHOOK_SECRET = 'a-webhook-secret-of-some-length';

/** A webhook receiver on loopback: every notification it got, with its headers and raw body. */
async function startReceiver(): Promise<{ server: Server; url: string; got: { headers: IncomingHttpHeaders; body: string }[] }> {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

describe('spending: usage recorded, budgets that stop it, rate limits waited out, sessions continued', () => {
  let hub: TestStack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  /** The notifications of `kind` the receiver got, each checked against its signature. */
  const notified = (kind: string) =>
    receiver.got
      .filter((n) => n.headers['hub-event'] === kind)
      .map((n) => {
        const signed = createHmac('sha256', WEBHOOK_SECRET).update(`${n.headers['hub-timestamp']}.${n.body}`).digest('hex');
        expect(n.headers['hub-signature-256']).toBe(`sha256=${signed}`);
        return JSON.parse(n.body) as { id: string; kind: string; event: { id: string; data: Record<string, unknown> }; summary: string };
      });

  beforeAll(async () => {
    receiver = await startReceiver();
    // A second name for the test agent, paced apart: at most 2 of its sessions at once on the runner.
    await docker.getImage('hub/test-agent:latest').tag({ repo: 'hub/test-agent', tag: 'paced' });
    hub = await startTestStack({
      HUB_RATE_LIMIT_WAIT_SECONDS: '3',
      HUB_IMAGE_PACING: 'hub/test-agent:paced=concurrent:2',
      HUB_WEBHOOKS: JSON.stringify([
        { name: 'ops', url: receiver.url, secret: WEBHOOK_SECRET, events: ['budget.threshold', 'session.rate-limited', 'orchestration.finished'] },
        // Nobody listens there: its deliveries are retried, and the record shows each attempt.
        { name: 'down', url: 'http://127.0.0.1:9/hook', secret: WEBHOOK_SECRET, events: ['budget.threshold'] },
      ]),
    });
  }, 180_000);

  afterAll(async () => {
    await hub?.stop();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  it('runs exactly the 4 of 10 sessions a token budget covers, skips the rest naming it, and runs them once the budget is raised and the orchestration retried', async () => {
    const created = await hub.api.createOrchestration({
      name: 'budgeted',
      start: true,
      budget: { tokens: 4500 },
      sessions: Array.from({ length: 10 }, (_, i) => ({ name: `s${i}`, prompt: spending(1000) })),
    });
    const ended = await hub.api.waitForOrchestration(created.id);
    expect(ended.counts).toMatchObject({ completed: 4, skipped: 6 });
    expect(ended.usage.tokens.total).toBe(4000);
    expect(ended.budget).toEqual({ tokens: 4500, usd: null, onExhausted: 'finish', left: { tokens: 500, usd: null }, exhausted: true });
    for (const session of ended.sessions.filter((s) => s.status === 'skipped')) {
      expect(session.statusReason).toContain('budget exhausted: 4,000 tokens of 4,500 tokens spent');
      expect(session.attempts).toEqual([]); // never started: no container
    }
    for (const session of ended.sessions.filter((s) => s.status === 'completed')) {
      expect(session.usage?.tokens).toEqual({ input: 1000, output: 0, cacheRead: 0, cacheWrite: 0, total: 1000 });
    }

    const raised = await hub.api.request<OrchestrationSummary>('PATCH', `/api/v1/orchestrations/${created.id}`, { budget: { tokens: 12_000 } });
    expect(raised.status).toBe(200);
    expect(raised.body.budget).toMatchObject({ left: { tokens: 8000 }, exhausted: false });
    expect((await hub.api.request('POST', `/api/v1/orchestrations/${created.id}/retry`)).status).toBe(202);
    const done = await hub.api.waitForOrchestration(created.id);
    expect(done.counts.completed).toBe(10);
    expect(done.usage.tokens.total).toBe(10_000);
    // What the tenant spent, per key that created its orchestrations: the bootstrap key made this one.
    const usage = await hub.api.request<UsageSummary>('GET', '/api/v1/usage');
    expect(usage.body.byKey).toContainEqual({
      key: 'bootstrap',
      orchestrations: 1,
      usage: { tokens: { input: 10_000, output: 0, cacheRead: 0, cacheWrite: 0, total: 10_000 }, costUsd: null },
    });

    const refused = await hub.api.request('PATCH', `/api/v1/orchestrations/${created.id}`, { budget: { onExhausted: 'stop' } });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('must name tokens, usd or both');

    // Its budget thresholds were notified, each once, signed: 80 % of the first budget, then 80 % and 100 % of the raised one.
    const thresholds = notified('budget.threshold').filter((n) => n.event.data.orchestrationId === created.id);
    expect(thresholds.map((n) => [n.event.data.threshold, n.event.data.spent, n.event.data.budget])).toEqual([
      [80, 4000, 4500],
      [80, 10_000, 12_000],
    ]);
    expect(new Set(thresholds.map((n) => n.event.id)).size).toBe(thresholds.length);
    const finished = notified('orchestration.finished').filter((n) => n.event.data.orchestrationId === created.id);
    expect(finished).toHaveLength(2); // once per run: it finished, was retried and finished again
    const down = await hub.api.request<NotificationDeliveryPage>('GET', '/api/v1/notifications/deliveries?webhook=down');
    expect(down.status).toBe(200);
    expect(down.body.items.length).toBeGreaterThanOrEqual(2);
    await waitFor(
      () => hub.api.request<NotificationDeliveryPage>('GET', '/api/v1/notifications/deliveries?webhook=down'),
      (page) => page.body.items.every((d) => d.attempts >= 2 && d.status !== 'delivered' && d.lastError !== null),
    );
  });

  it('waits out a rate limit the agent reports, without spending its retries, saying why it waits, then completes', async () => {
    const limitedOnce =
      'if [ "$HUB_ATTEMPT" = 1 ]; then echo \'{"tokens":{"input":5},"rateLimit":{"message":"rate_limit_error: 429 Too Many Requests"}}\' > /hub/output/usage.json; ' +
      'echo "API Error: 429"; exit 1; fi; ' +
      spending(7, 'echo done');
    const created = await hub.api.createOrchestration({ name: 'limited', start: true, sessions: [{ name: 'agent', prompt: limitedOnce, retries: 0 }] });
    const [session] = created.sessions;
    const waiting = await waitFor(() => hub.api.getSession(session.id), (s) => s.status === 'ready' && s.attempt === 1);
    expect(waiting.statusReason).toMatch(
      /^attempt 1 rate limited by its model's API \(rate_limit_error: 429 Too Many Requests\); waiting until \S+ to run it again \(its retries unspent\)$/,
    );

    const done = await hub.api.waitForStatus(session.id);
    expect(done).toMatchObject({ status: 'completed', attempt: 2, retries: 0 });
    expect(done.attempts.map((a) => [a.status, a.reason])).toEqual([
      ['failed', expect.stringMatching(/^rate_limited: rate_limit_error: 429 Too Many Requests \(exited with code 1/)],
      ['completed', expect.stringMatching(/^exited with code 0/)],
    ]);
    expect(done.usage?.tokens.total).toBe(12);
    const limited = notified('session.rate-limited').filter((n) => n.event.data.sessionId === session.id);
    expect(limited).toHaveLength(1);
    expect(limited[0].summary).toContain('rate');
    // It ran again after the wait (HUB_RATE_LIMIT_WAIT_SECONDS=3), not at once.
    const [first, second] = done.attempts;
    expect(Date.parse(second.finishedAt) - Date.parse(first.finishedAt)).toBeGreaterThanOrEqual(2500);
  });

  it("paces an image's sessions: never more than its concurrent cap run at once, while other images run beside them", async () => {
    const created = await hub.api.createOrchestration({
      name: 'paced',
      start: true,
      sessions: [
        ...Array.from({ length: 6 }, (_, i) => ({ name: `paced${i}`, image: 'hub/test-agent:paced', prompt: 'sleep 1' })),
        { name: 'other', prompt: 'sleep 1' },
      ],
    });
    const ended = await hub.api.waitForOrchestration(created.id);
    expect(ended.counts.completed).toBe(7);
    const paced = ended.sessions.filter((s) => s.image === 'hub/test-agent:paced');
    const spans = paced.map((s) => [Date.parse(s.startedAt!), Date.parse(s.finishedAt!)] as const);
    const mostAtOnce = Math.max(...spans.map(([start]) => spans.filter(([from, to]) => from <= start && start < to).length));
    expect(mostAtOnce).toBe(2);
    const health = await hub.api.request('GET', '/health/ready');
    expect(JSON.stringify(health.body)).toContain('hub/test-agent:paced');
  });

  it('continues a completed session: a new session that depends on it, is told where its conversation is, and is linked both ways', async () => {
    const created = await hub.api.createOrchestration({
      name: 'continued',
      start: true,
      sessions: [{ name: 'plan', prompt: 'mkdir -p /hub/output/conversation; echo "turn 1" > /hub/output/conversation/transcript' }],
    });
    const plan = byName((await hub.api.waitForOrchestration(created.id)).sessions).plan;
    const response = await hub.api.request<SessionView>('POST', `/api/v1/sessions/${plan.id}/continue`, {
      prompt: 'cat "$HUB_CONTINUE_FROM/conversation/transcript" > /hub/output/seen; echo "turn 2" >> /hub/output/seen',
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ name: 'plan-continued-1', continues: plan.id, dependsOn: [plan.id] });

    const next = await hub.api.waitForStatus(response.body.id);
    expect(next.status).toBe('completed');
    const seen = await hub.api.request('GET', `/api/v1/sessions/${next.id}/output/files/seen`);
    expect(seen.text).toBe('turn 1\nturn 2\n');
    expect((await hub.api.getSession(plan.id)).continuedBy).toEqual([next.id]);

    const notCompleted = await hub.api.request('POST', `/api/v1/sessions/${plan.id}/continue`, {});
    expect(notCompleted.status).toBe(400);
  });
});

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
