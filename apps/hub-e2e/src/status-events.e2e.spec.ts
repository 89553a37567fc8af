import { JSONCodec, type NatsConnection } from 'nats';
import { connectToBus, startTestStack, type TestStack } from './support/test-stack';
import { watchOrchestration } from '../../../examples/watch-orchestration';

interface StatusChanged {
  id: string;
  subject: string;
  data: { sessionId: string; from: string | null; to: string; reason: string | null; at: string };
}

describe('every transition is a session.status-changed event integrations can read', () => {
  let hub: TestStack;
  let nc: NatsConnection;
  const jc = JSONCodec<StatusChanged>();

  beforeAll(async () => {
    hub = await startTestStack();
    nc = await connectToBus(hub.stack);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await hub?.stop();
  });

  it('a plain NATS subscriber sees each transition as it happens, in order', async () => {
    const seen: StatusChanged[] = [];
    const subscription = nc.subscribe('session.status-changed');
    void (async () => {
      for await (const message of subscription) seen.push(jc.decode(message.data));
    })();
    await nc.flush();

    const session = await hub.api.createSession({ type: 'analysis', prompt: 'echo hi', start: true });
    await hub.api.waitForStatus(session.id);
    await new Promise((r) => setTimeout(r, 300));
    subscription.unsubscribe();

    const transitions = seen.filter((e) => e.data.sessionId === session.id).map((e) => `${e.data.from}->${e.data.to}`);
    expect(transitions).toEqual([
      'created->waiting',
      'waiting->ready',
      'ready->starting',
      'starting->running',
      'running->completed',
    ]);
  });

  it('the JetStream stream keeps every transition once, in order, for a reader that comes later', async () => {
    const failing = await hub.api.createSession({ type: 'testing', prompt: 'exit 7', start: true });
    await hub.api.waitForStatus(failing.id);

    const js = nc.jetstream();
    const consumer = await js.consumers.get('HUB_EVENTS', { filterSubjects: 'session.status-changed' });
    const events: StatusChanged[] = [];
    const info = await (await nc.jetstreamManager()).streams.info('HUB_EVENTS');
    const messages = await consumer.fetch({ max_messages: info.state.messages, expires: 2_000 });
    for await (const message of messages) {
      events.push(jc.decode(message.data));
      if (message.info.pending === 0) break;
    }

    const ofSession = events.filter((e) => e.data.sessionId === failing.id);
    expect(ofSession.map((e) => e.data.to)).toEqual(['waiting', 'ready', 'starting', 'running', 'failed']);
    expect(ofSession[4].data.reason).toContain('7');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const times = ofSession.map((e) => Date.parse(e.data.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('a client of GET /api/v1/events started after an orchestration finished still receives its whole history, and leaves nothing behind', async () => {
    const jsm = await nc.jetstreamManager();
    const consumersBefore = (await jsm.streams.info('HUB_EVENTS')).state.consumer_count;
    const orchestration = await hub.api.createOrchestration({
      name: 'history',
      start: true,
      sessions: [
        { name: 'a', prompt: 'true' },
        { name: 'b', dependsOn: ['a'], prompt: 'exit 4' },
        { name: 'c', dependsOn: ['b'], prompt: 'true' },
      ],
    });
    await hub.api.waitForOrchestration(orchestration.id);

    const lines: string[] = [];
    const seen = await watchOrchestration({
      hubUrl: hub.stack.gatewayUrl,
      apiToken: hub.stack.apiToken,
      orchestrationId: orchestration.id,
      print: (line) => lines.push(line),
    });
    const [a, b, c] = orchestration.sessions.map((s) => s.id);
    expect(seen.filter((t) => t.startsWith(a))).toEqual(
      ['created->waiting', 'waiting->ready', 'ready->starting', 'starting->running', 'running->completed'].map((t) => `${a} ${t}`),
    );
    expect(seen.filter((t) => t.startsWith(b)).pop()).toBe(`${b} running->failed`);
    expect(seen.filter((t) => t.startsWith(c))).toEqual([`${c} created->waiting`, `${c} waiting->skipped`]);
    expect(lines.join('\n')).toContain('exited with code 4');
    expect(lines.at(-1)).toMatch(/orchestration failed$/);

    // The gateway removed the stream's consumer once the watcher hung up.
    const deadline = Date.now() + 5_000;
    while ((await jsm.streams.info('HUB_EVENTS')).state.consumer_count !== consumersBefore && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await jsm.streams.info('HUB_EVENTS')).state.consumer_count).toBe(consumersBefore);
  });
});
