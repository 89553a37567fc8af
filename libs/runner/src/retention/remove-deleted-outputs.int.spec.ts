// What a runner does on session.deleted and orchestration.deleted, against a real nats-server -js: every
// object of the deleted sessions (logs of each attempt, output files, manifest, changes) and the
// orchestration's combined result leave the object store; nothing of any other session does; a
// redelivery, or a session that never stored anything, finds nothing and is done.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, NatsConnection } from 'nats';
import { createLogger } from '@hub/config';
import {
  changesBundleObjectName,
  changesDiffObjectName,
  changesListObjectName,
  EventOf,
  EventPayload,
  EventSubject,
  orchestrationChangesKey,
  OUTPUT_BUCKET,
  type StoredChanges,
} from '@hub/contracts';
import { OutputStore } from '@hub/messaging';
import { makeTempDir, startNatsServer, type NatsServer } from '@hub/infra';
import { RemoveDeletedOutputs } from './remove-deleted-outputs.use-case';

describe('RemoveDeletedOutputs (real nats-server -js)', () => {
  let dir: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let store: OutputStore;
  let remover: RemoveDeletedOutputs;
  const files = { bundle: '', diff: '' };

  beforeAll(async () => {
    dir = await makeTempDir('hub-remove-outputs');
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    store = new OutputStore(nc);
    remover = new RemoveDeletedOutputs(store, createLogger('test', 'silent'));
    files.bundle = join(dir, 'bundle');
    files.diff = join(dir, 'diff');
    await writeFile(files.bundle, 'a git bundle');
    await writeFile(files.diff, 'a diff');
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const event = <S extends EventSubject>(subject: S, data: EventPayload<S>): EventOf<S> => ({
    id: randomUUID(),
    subject,
    occurredAt: new Date().toISOString(),
    data,
  });

  const changes: StoredChanges = {
    summary: { branch: 'hub/o/s', baseCommit: 'a'.repeat(40), headCommit: 'b'.repeat(40), files: 1, added: 1, removed: 0 },
    files: [],
    diffTruncated: false,
  };

  /** What a session that ran two attempts leaves: a log each, output files (some of the first attempt only), its manifest and changes. */
  async function storeSession(sessionId: string): Promise<void> {
    await writeFile(join(dir, 'log'), 'a log line\n');
    await store.putLogFile(sessionId, 1, join(dir, 'log'));
    await store.putLogFile(sessionId, 2, join(dir, 'log'));
    await store.putLog(sessionId, Buffer.from('the log of before attempts had their own'));
    await store.putFile(sessionId, 'first-attempt-only.txt', Buffer.from('1'));
    await store.putFile(sessionId, 'deep/dir/result.txt', Buffer.from('2'));
    await store.putFile(sessionId, 'empty.txt', Buffer.alloc(0));
    await store.putManifest(sessionId, { sessionId, attempt: 2, files: [], skipped: [], skippedCount: 0 });
    await store.putChanges(sessionId, changes, files);
  }

  const OBJECTS_PER_SESSION = 10;
  const namesOf = (sessionIds: string[]) => store.namesUnder(sessionIds.map((id) => `${id}/`));

  it('removes every object of the sessions of a deleted orchestration and its result, nothing else, and a redelivery finds nothing', async () => {
    const [a, b, other] = [randomUUID(), randomUUID(), randomUUID()];
    const orchestrationId = randomUUID();
    const otherOrchestration = randomUUID();
    for (const sessionId of [a, b, other]) await storeSession(sessionId);
    await store.putChanges(orchestrationChangesKey(orchestrationId), changes, files);
    await store.putChanges(orchestrationChangesKey(otherOrchestration), changes, files);
    expect(await namesOf([a, b])).toHaveLength(2 * OBJECTS_PER_SESSION);

    const deleted = event('orchestration.deleted', { orchestrationId, sessionIds: [a, b] });
    expect(await remover.onOrchestrationDeleted(deleted)).toBe(2 * OBJECTS_PER_SESSION + 3);

    expect(await namesOf([a, b])).toEqual([]);
    expect(await store.getManifest(a)).toBeNull();
    expect(await store.getLogStream(b, 1)).toBeNull();
    expect(await store.getFileStream(a, 'deep/dir/result.txt')).toBeNull();
    expect(await store.getChanges(a)).toBeNull();
    expect(await store.getChanges(orchestrationChangesKey(orchestrationId))).toBeNull();
    // Another session's objects, and another orchestration's result, stay.
    expect((await namesOf([other])).sort()).toEqual(
      [
        `${other}/log`,
        `${other}/logs/1`,
        `${other}/logs/2`,
        `${other}/output/first-attempt-only.txt`,
        `${other}/output/deep/dir/result.txt`,
        `${other}/output/empty.txt`,
        `${other}/manifest`,
        changesBundleObjectName(other),
        changesDiffObjectName(other),
        changesListObjectName(other),
      ].sort(),
    );
    expect(await store.getChanges(orchestrationChangesKey(otherOrchestration))).toEqual(changes);

    // Delivered again (the first delivery's ack was lost): nothing left, nothing fails.
    expect(await remover.onOrchestrationDeleted(deleted)).toBe(0);
  });

  it('finds every object however many the bucket holds (the listing is read in batches), and leaves nothing of those it removes', async () => {
    const messages = async () => (await (await nc.jetstreamManager()).streams.info(`OBJ_${OUTPUT_BUCKET}`)).state.messages;
    const [many, neighbour] = [randomUUID(), randomUUID()];
    const before = await messages();
    for (let i = 0; i < 600; i++) await store.putFile(i % 2 ? many : neighbour, `f${i}.txt`, Buffer.from(`${i}`));
    await store.putFile(many, 'naïve ~?>/ünïcödé&=+.txt', Buffer.from('any name the store takes'));
    expect(await remover.onSessionDeleted(event('session.deleted', { sessionId: many, orchestrationId: randomUUID() }))).toBe(301);
    expect(await namesOf([many])).toEqual([]);
    expect(await namesOf([neighbour])).toHaveLength(300);
    // Each small file was a chunk and a description: only the neighbour's are left, no tombstone of the others.
    expect((await messages()) - before).toBe(300 * 2);
  });

  it('removes a deleted session\'s objects, and takes one that stored nothing (it never ran) in its stride', async () => {
    const [session, neighbour, never] = [randomUUID(), randomUUID(), randomUUID()];
    await storeSession(session);
    await storeSession(neighbour);
    const orchestrationId = randomUUID();

    expect(await remover.onSessionDeleted(event('session.deleted', { sessionId: session, orchestrationId }))).toBe(OBJECTS_PER_SESSION);
    expect(await namesOf([session])).toEqual([]);
    expect(await namesOf([neighbour])).toHaveLength(OBJECTS_PER_SESSION);

    expect(await remover.onSessionDeleted(event('session.deleted', { sessionId: never, orchestrationId }))).toBe(0);
    expect(await remover.onOrchestrationDeleted(event('orchestration.deleted', { orchestrationId, sessionIds: [] }))).toBe(0);
    // An object removed is gone whole: reading it finds none, removing it again says there was none.
    expect(await store.getManifest(session)).toBeNull();
    expect(await store.remove(`${session}/manifest`)).toBe(false);
    // One the client's own delete left marked deleted is taken away whole too (and was not there to remove).
    await store.putFile(neighbour, 'marked.txt', Buffer.from('x'));
    await (await nc.jetstream().views.os(OUTPUT_BUCKET)).delete(`${neighbour}/output/marked.txt`);
    expect(await store.remove(`${neighbour}/output/marked.txt`)).toBe(false);
  });
});
