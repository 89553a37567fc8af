import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { EVENT_STREAM, type OrchestrationView } from '@hub/contracts';
import { makeTempDir, NATS_OBSERVER, startHubStack, type HubStack } from '@hub/infra';
import { HubApi } from './support/hub-api';
import { DockerEventRecorder } from './support/fault/observe';

// Issue 18, "a clustered NATS": the whole stack on a JetStream cluster of three nats-server processes
// (HUB_EVENTS, the live logs, the output bucket and the KV buckets with three copies each). The node
// leading HUB_EVENTS is killed (SIGKILL) while an orchestration runs: the run completes, and the stream
// holds every event the services published, once each, with no gap in its sequence.

const WORKSPACE_ROOT = resolve(__dirname, '../../..');
const SESSIONS = 20;
/** The run's path every session must take, each move once. */
const PATH = ['created->waiting', 'waiting->ready', 'ready->starting', 'starting->running', 'running->completed'];
/**
 * The same run when the registry took the session's container.exited before its container.started:
 * each subject has its own durable consumer, and a failover can hold up one of them for seconds while
 * the other goes on. The session then goes from starting to completed; container.started still came,
 * once, and changed nothing.
 */
const PATH_WITH_STARTED_LATE = ['created->waiting', 'waiting->ready', 'ready->starting', 'starting->completed'];
/** The events told once about each session (their ids are deterministic, or written once to the outbox). */
const ONCE_PER_SESSION = ['session.created', 'session.start-requested', 'deps.resolved', 'session.ready', 'container.started', 'container.exited'];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface StoredEvent {
  seq: number;
  time: number;
  msgId: string | undefined;
  id: string;
  subject: string;
  data: Record<string, any>;
}

interface Readiness {
  status: string;
  checks: { name: string; ok: boolean; detail: string }[];
}

describe('a clustered NATS: one node killed mid-run loses nothing', () => {
  let stateDir: string;
  let stack: HubStack;
  let api: HubApi;
  let observer: NatsConnection;
  const docker = new DockerEventRecorder();
  const startedAt = Date.now();

  beforeAll(async () => {
    execFileSync('bash', [join(WORKSPACE_ROOT, 'images/test-agent/build.sh')], { stdio: 'ignore' });
    stateDir = await makeTempDir('hub-e2e-nats-cluster');
    stack = await startHubStack({
      workspaceRoot: WORKSPACE_ROOT,
      stateDir,
      durable: false,
      apiToken: randomBytes(16).toString('hex'),
      natsObserver: true,
      natsCluster: 3,
      env: { HUB_RUNNER_SLOTS: '4', HUB_STOP_GRACE_SECONDS: '2', LOG_LEVEL: 'info' },
    });
    api = new HubApi(stack.gatewayUrl, stack.apiToken);
    observer = await connect({
      servers: stack.natsUrl.split(','),
      ...stack.natsCredentials(NATS_OBSERVER),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
  }, 120_000);

  afterAll(async () => {
    docker.close();
    await observer?.close().catch(() => undefined);
    await stack?.stop();
    if (stateDir && !process.env['HUB_E2E_KEEP']) await rm(stateDir, { recursive: true, force: true });
    process.stdout.write(`nats-cluster e2e: ${((Date.now() - startedAt) / 1000).toFixed(1)} s wall time\n`);
  });

  it('completes the run when the HUB_EVENTS leader is killed, with every event stored once and no gap', async () => {
    const cluster = stack.natsCluster!;
    expect(stack.nats).toBeUndefined();
    expect(stack.natsUrl.split(',')).toHaveLength(3);
    const jsm = await observer.jetstreamManager();
    const before = await jsm.streams.info(EVENT_STREAM.name);
    // HUB_NATS_REPLICAS=3: the services made the stream with three copies.
    expect(before.config.num_replicas).toBe(3);
    const ready = await readiness(api);
    expect(ready.status).toBe('ok');
    expect(ready.checks.find((c) => c.name === 'nats')?.detail).toMatch(/^connected to hub-\d \(127\.0\.0\.1:\d+\) of cluster hub, 3 servers/);
    expect(ready.checks.find((c) => c.name === `jetstream stream ${EVENT_STREAM.name}`)?.detail).toMatch(/3 copies, leader hub-\d/);

    await docker.start();
    const orchestration = await api.createOrchestration({
      name: 'nats-cluster',
      start: true,
      sessions: Array.from({ length: SESSIONS }, (_, i) => ({ name: `s${i + 1}`, prompt: 'sleep 1' })),
    });
    const sessionIds = new Set(orchestration.sessions.map((s) => s.id));

    // Mid-run: a few sessions completed, most still to go.
    let view: OrchestrationView;
    do {
      await sleep(100);
      view = await api.getOrchestration(orchestration.id);
    } while (view.sessions.filter((s) => s.status === 'completed').length < 3);
    const leaderName = (await jsm.streams.info(EVENT_STREAM.name)).cluster!.leader!;
    const victim = cluster.node(leaderName);
    const completedAtKill = view.sessions.filter((s) => s.status === 'completed').length;
    const killedAt = Date.now();
    await victim.kill();
    expect(completedAtKill).toBeLessThan(SESSIONS);

    // Polled as a client would, taking a 503 (a request lost while a service moved to another node) as "ask again".
    const unavailable: number[] = [];
    // Within the election (a few seconds) plus a durable consumer's stranded pull noticed (about 40 s: docs/scaling.md).
    const done = await untilEnded(api, orchestration.id, 55_000, () => unavailable.push(Date.now() - killedAt));
    const runEndedAt = Date.now();
    expect(done.sessions.map((s) => s.status)).toEqual(Array(SESSIONS).fill('completed'));
    // One container per session, by Docker's own record.
    const containerEvents = await docker.stop(sessionIds);
    for (const id of sessionIds) expect(containerEvents.filter((e) => e.sessionId === id && e.action === 'create')).toHaveLength(1);

    // A new leader serves the stream, and the gateway's readiness still says ok (two of three copies).
    await untilOrchestrationFinishedIsStored(jsm, orchestration.id);
    const after = await jsm.streams.info(EVENT_STREAM.name);
    expect(after.cluster?.leader).toBeDefined();
    expect(after.cluster?.leader).not.toBe(leaderName);
    const readyAfter = await readiness(api);
    expect(readyAfter.status).toBe('ok');
    // nats-server 2.9 does not call a killed peer offline: it is behind, not heard from since the kill.
    expect(readyAfter.checks.find((c) => c.name === `jetstream stream ${EVENT_STREAM.name}`)?.detail).toMatch(new RegExp(`${leaderName} (offline|behind)`));

    // The stream from its first event: no sequence missing (nothing deleted, nothing skipped).
    expect(after.state.first_seq).toBe(1);
    expect(after.state.num_deleted ?? 0).toBe(0);
    expect(after.state.messages).toBe(after.state.last_seq);
    const events = await readStream(jsm, after.state.last_seq);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: after.state.last_seq }, (_, i) => i + 1));

    // No event twice: each id once, and it is the message id JetStream dropped duplicates by.
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const event of events) expect(event.msgId).toBe(event.id);

    // None missing: every session took its whole path, each move once; every fact about it told once.
    for (const id of sessionIds) {
      const ofSession = events.filter((e) => e.data['sessionId'] === id);
      const moves = ofSession.filter((e) => e.subject === 'session.status-changed').map((e) => `${e.data['from']}->${e.data['to']}`);
      expect({ id, moves }).toEqual({ id, moves: moves.includes('starting->completed') ? PATH_WITH_STARTED_LATE : PATH });
      for (const subject of ONCE_PER_SESSION) expect({ id, subject, count: ofSession.filter((e) => e.subject === subject).length }).toEqual({ id, subject, count: 1 });
    }
    expect(events.filter((e) => e.subject === 'orchestration.finished' && e.data['orchestrationId'] === orchestration.id)).toHaveLength(1);

    // Everything the registry wrote to its outbox was relayed, and is in the stream once.
    const outbox = await outboxEventIds(stack.databaseUrl);
    expect(outbox.unpublished).toBe(0);
    const stored = new Set(ids);
    expect(outbox.ids.filter((id) => !stored.has(id))).toEqual([]);

    // How long the run paused: from the kill to the first event the new leader stored.
    const storedBefore = events.filter((e) => e.time < killedAt);
    const storedAfter = events.filter((e) => e.time >= killedAt);
    const pauseMs = storedAfter[0]!.time - killedAt;
    const gapMs = storedAfter[0]!.time - storedBefore[storedBefore.length - 1]!.time;
    process.stdout.write(
      `killed ${leaderName} (HUB_EVENTS leader, ${completedAtKill}/${SESSIONS} sessions completed); new leader ${after.cluster?.leader}; ` +
        `first event stored ${pauseMs} ms after the kill (gap between stored events ${gapMs} ms); ` +
        `run completed ${((runEndedAt - killedAt) / 1000).toFixed(1)} s after the kill; ${events.length} events, ${ids.length} ids, outbox ${outbox.ids.length}; ` +
        `503 answers to the poll: ${unavailable.length ? unavailable.map((ms) => `${ms} ms`).join(', ') + ' after the kill' : 'none'}\n`,
    );
    expect(pauseMs).toBeLessThan(20_000);

    // Back on its store, the node catches up: its copy of HUB_EVENTS is current again, nothing lost there.
    const restartedAt = Date.now();
    await victim.start();
    const deadline = Date.now() + 20_000;
    let copy;
    do {
      await sleep(200);
      const info = await jsm.streams.info(EVENT_STREAM.name).catch(() => undefined);
      copy = info?.cluster?.leader === leaderName ? { current: true } : info?.cluster?.replicas?.find((r) => r.name === leaderName);
    } while (!(copy?.current && !('offline' in copy && copy.offline)) && Date.now() < deadline);
    expect(copy?.current).toBe(true);
    process.stdout.write(`${leaderName} restarted: its copy of ${EVENT_STREAM.name} current ${Date.now() - restartedAt} ms later\n`);
    expect((await jsm.streams.info(EVENT_STREAM.name)).state.last_seq).toBeGreaterThanOrEqual(after.state.last_seq);
  }, 100_000);
});

/** Polls until every session of the orchestration has ended; a 503 is told to `onUnavailable` and asked again. */
async function untilEnded(api: HubApi, id: string, timeoutMs: number, onUnavailable: () => void): Promise<OrchestrationView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const view = await api.getOrchestration(id);
      if (view.sessions.every((s) => ['completed', 'failed', 'cancelled', 'timed_out', 'skipped'].includes(s.status))) return view;
    } catch (error) {
      if (!/HTTP 503/.test((error as Error).message)) throw error;
      onUnavailable();
    }
    if (Date.now() > deadline) throw new Error(`orchestration ${id} did not end within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function readiness(api: HubApi): Promise<Readiness> {
  const response = await fetch(`${api.baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as Readiness;
}

/**
 * Every message of the stream, by sequence, from its leader. Not through a consumer: an ephemeral
 * consumer has one copy, which nats-server 2.9 may place on the node that was killed (it still counts
 * it as a peer), and then its creation times out.
 */
async function readStream(jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>, lastSeq: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let seq = 1; seq <= lastSeq; seq++) {
    const msg = await jsm.streams.getMessage(EVENT_STREAM.name, { seq });
    const envelope = msg.json<{ id: string; subject: string; data: Record<string, any> }>();
    events.push({ seq: msg.seq, time: msg.time.getTime(), msgId: msg.header?.get('Nats-Msg-Id') || undefined, ...envelope });
  }
  return events;
}

/** The orchestration's last event (a moment after its last session's status) is in the stream. */
async function untilOrchestrationFinishedIsStored(jsm: Awaited<ReturnType<NatsConnection['jetstreamManager']>>, orchestrationId: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const last = await jsm.streams.getMessage(EVENT_STREAM.name, { last_by_subj: 'orchestration.finished' });
      if (last.json<{ data: { orchestrationId: string } }>().data.orchestrationId === orchestrationId) return;
    } catch {
      // none yet
    }
    if (Date.now() > deadline) throw new Error(`orchestration.finished of ${orchestrationId} is not in ${EVENT_STREAM.name}`);
    await sleep(100);
  }
}

/** The ids of every event the registry wrote to its outbox, and how many are not relayed yet. */
async function outboxEventIds(databaseUrl: string): Promise<{ ids: string[]; unpublished: number }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ event_id: string; published: boolean }>('SELECT event_id, published_at IS NOT NULL AS published FROM outbox ORDER BY seq');
    return { ids: rows.map((r) => r.event_id), unpublished: rows.filter((r) => !r.published).length };
  } finally {
    await client.end();
  }
}
