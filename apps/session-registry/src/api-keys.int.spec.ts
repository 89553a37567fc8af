// API keys and the audit log in the registry's process, against a real nats-server and real
// PostgreSQL (with the real migrations): the registry's own handlers, its scope guard and its audit
// interceptor, bound by its transport, called over request/reply as the gateway calls them.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Controller, INestMicroservice, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { connect, NatsConnection } from 'nats';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { API_KEY_TOKEN_PATTERN, type Caller, conflict, HubError, RPC, type RpcRequest } from '@hub/contracts';
import { HUB_LOGGER } from '@hub/config';
import { makeTempDir, startNatsServer, startPostgresCluster, type NatsServer, type PostgresCluster } from '@hub/infra';
import { JetStreamServer, MessagingModule, RethrowRpcErrors, RpcCall, RpcClient } from '@hub/messaging';
import { openDatabase } from '@hub/persistence';
import { ApiKeysModule, AuditModule, parseApiKeyToken } from '@hub/registry';
import { buildSessionView } from '@hub/testing';
import { ApiKeysController } from './api-keys.controller';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { CallerScopeGuard } from './caller-scope.guard';

const PEPPER = 'pepper-'.padEnd(43, 'x');
const ops: Caller = { key: 'ops', tenant: 'default', scope: 'admin' };
const writer: Caller = { key: 'ci-writer', tenant: 'team-a', scope: 'write' };
const reader: Caller = { key: 'ci-reader', tenant: 'team-a', scope: 'read' };

/** Stands in for the session commands: an audited write that succeeds, and one that is refused. */
@Controller()
class SessionWritesStandIn {
  @MessagePattern(RPC.cancelSession)
  onCancelSession(@Payload() { sessionId }: RpcRequest<typeof RPC.cancelSession>) {
    if (sessionId.startsWith('00000000')) throw conflict(`session ${sessionId} has ended`);
    return buildSessionView({ id: sessionId, status: 'cancelled' });
  }

  @MessagePattern(RPC.getSession)
  onGetSession(@Payload() { sessionId }: RpcRequest<typeof RPC.getSession>, @Ctx() call: RpcCall) {
    return buildSessionView({ id: sessionId, name: call.caller.key });
  }
}

describe('API keys and the audit log (real NATS and PostgreSQL)', () => {
  let dir: string;
  let postgres: PostgresCluster;
  let nats: NatsServer;
  let nc: NatsConnection;
  let dataSource: DataSource;
  let app: INestMicroservice;
  let rpc: RpcClient;

  beforeAll(async () => {
    dir = await makeTempDir('hub-api-keys');
    postgres = await startPostgresCluster({ dataDir: join(dir, 'pg'), fsync: false });
    nats = await startNatsServer({ storeDir: join(dir, 'nats') });
    nc = await connect({ servers: nats.url });
    dataSource = await openDatabase(postgres.url);
    const logger = pino({ level: 'silent' });

    @Module({
      imports: [MessagingModule.forConnection(nc), ApiKeysModule.forRoot(dataSource, { pepper: PEPPER }), AuditModule.forRoot(dataSource)],
      controllers: [ApiKeysController, AuditController, SessionWritesStandIn],
      providers: [
        { provide: HUB_LOGGER, useValue: logger },
        { provide: APP_GUARD, useClass: CallerScopeGuard },
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
    })
    class RegistryKeysModule {}
    const subjects = [RPC.createApiKey, RPC.listApiKeys, RPC.revokeApiKey, RPC.verifyApiKey, RPC.listAudit, RPC.cancelSession, RPC.getSession];
    app = await NestFactory.createMicroservice(RegistryKeysModule, {
      strategy: new JetStreamServer({ service: 'session-registry', nc, logger, events: [], rpc: subjects }),
      logger: false,
    });
    app.useGlobalFilters(new RethrowRpcErrors());
    await app.listen();
    rpc = new RpcClient(nc);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await dataSource?.destroy();
    await nc?.close();
    await nats?.stop();
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const refusal = (promise: Promise<unknown>) => promise.then(() => 'answered', (error: HubError) => ({ code: error.code, message: error.message }));
  const verify = async (token: string) => (await rpc.call(RPC.verifyApiKey, { token })).caller;

  it('creates a key whose token is answered once and stored only as a hash', async () => {
    const created = await rpc.call(RPC.createApiKey, { name: 'stored-as-hash', scope: 'write', tenant: 'team-a' }, ops);
    expect(created).toMatchObject({ name: 'stored-as-hash', scope: 'write', tenant: 'team-a', createdBy: 'ops', revokedAt: null, lastUsedAt: null });
    expect(created.token).toMatch(API_KEY_TOKEN_PATTERN);
    const { secret } = parseApiKeyToken(created.token)!;
    const [row] = await dataSource.query(`SELECT row_to_json(k)::text AS json, encode(secret_hash, 'hex') AS hash FROM api_keys k WHERE id = $1`, [created.id]);
    expect(row.hash).toHaveLength(64);
    for (const kept of [row.json, row.hash]) {
      expect(kept).not.toContain(secret);
      expect(kept).not.toContain(created.token);
      expect(kept).not.toContain(Buffer.from(secret).toString('hex'));
    }
    const listed = await rpc.call(RPC.listApiKeys, { tenant: 'team-a' }, ops);
    expect(listed.items.find((key) => key.id === created.id)).toEqual({ ...created, token: undefined });
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it("verifies a token to its key's caller, and refuses anything else", async () => {
    const created = await rpc.call(RPC.createApiKey, { name: 'verified', scope: 'read' }, ops);
    expect(await verify(created.token)).toEqual({ key: 'verified', tenant: 'default', scope: 'read' });
    const { secret } = parseApiKeyToken(created.token)!;
    const otherSecret = created.token.replace(secret, `${secret[0] === 'A' ? 'B' : 'A'}${secret.slice(1)}`);
    expect(await verify(otherSecret)).toBeNull();
    expect(await verify(created.token.replace(/^hub_[0-9a-f]{8}/, 'hub_ffffffff'))).toBeNull();
    expect(await verify('not-a-key')).toBeNull();
  });

  it('records a use at most once a minute', async () => {
    const created = await rpc.call(RPC.createApiKey, { name: 'used', scope: 'read' }, ops);
    await verify(created.token);
    const lastUsed = async () => (await dataSource.query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [created.id]))[0].last_used_at as Date;
    const first = await lastUsed();
    expect(first).toBeInstanceOf(Date);
    await verify(created.token);
    expect(await lastUsed()).toEqual(first);
    await dataSource.query(`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = $1`, [created.id]);
    await verify(created.token);
    expect((await lastUsed()).getTime()).toBeGreaterThan(Date.now() - 30_000);
  });

  it('refuses a key once it is revoked, at once; revoking again changes nothing; its name is free again', async () => {
    const created = await rpc.call(RPC.createApiKey, { name: 'revoked-at-once', scope: 'write' }, ops);
    expect(await verify(created.token)).not.toBeNull();
    expect(await refusal(rpc.call(RPC.createApiKey, { name: 'revoked-at-once', scope: 'read' }, ops))).toEqual({
      code: 'conflict',
      message: 'an API key named revoked-at-once exists (revoke it first)',
    });
    const revoked = await rpc.call(RPC.revokeApiKey, { id: created.id }, ops);
    expect(revoked.revokedAt).not.toBeNull();
    expect(await verify(created.token)).toBeNull();
    expect((await rpc.call(RPC.revokeApiKey, { id: created.id }, ops)).revokedAt).toBe(revoked.revokedAt);
    const missing = randomUUID();
    expect(await refusal(rpc.call(RPC.revokeApiKey, { id: missing }, ops))).toEqual({ code: 'not_found', message: `API key ${missing} does not exist` });
    expect((await rpc.call(RPC.createApiKey, { name: 'revoked-at-once', scope: 'read' }, ops)).name).toBe('revoked-at-once');
  });

  it('lets only admin keys manage keys and read the audit log, and read keys no write', async () => {
    expect(await refusal(rpc.call(RPC.createApiKey, { name: 'by-a-writer', scope: 'admin' }, writer))).toEqual({
      code: 'forbidden',
      message: 'this key (write) may not ask hub.registry.keys.create: it needs the admin scope',
    });
    expect(await refusal(rpc.call(RPC.listAudit, {}, writer))).toMatchObject({ code: 'forbidden' });
    expect(await refusal(rpc.call(RPC.cancelSession, { sessionId: randomUUID() }, reader))).toMatchObject({
      code: 'forbidden',
      message: 'this key (read) may not ask hub.registry.sessions.cancel: it needs the write scope',
    });
    expect((await rpc.call(RPC.getSession, { sessionId: randomUUID() }, reader)).name).toBe('ci-reader');
  });

  it("writes the audit log for each write that succeeded, naming the caller's key, and nothing for one refused", async () => {
    const sessionId = randomUUID();
    await rpc.call(RPC.cancelSession, { sessionId }, writer);
    await refusal(rpc.call(RPC.cancelSession, { sessionId: '00000000-0000-4000-8000-000000000000' }, writer));
    await refusal(rpc.call(RPC.createApiKey, { name: 'never-made', scope: 'read' }, writer));
    const key = await rpc.call(RPC.createApiKey, { name: 'audited', scope: 'read', tenant: 'team-b' }, ops);
    await rpc.call(RPC.revokeApiKey, { id: key.id }, ops);

    const { items } = await rpc.call(RPC.listAudit, { limit: 3 }, ops);
    expect(items.map(({ key, tenant, action, targetType, targetId, detail }) => ({ key, tenant, action, targetType, targetId, detail }))).toEqual([
      { key: 'ops', tenant: 'default', action: 'keys.revoke', targetType: 'api-key', targetId: key.id, detail: { name: 'audited' } },
      { key: 'ops', tenant: 'default', action: 'keys.create', targetType: 'api-key', targetId: key.id, detail: { name: 'audited', scope: 'read', tenant: 'team-b' } },
      { key: 'ci-writer', tenant: 'team-a', action: 'sessions.cancel', targetType: 'session', targetId: sessionId, detail: null },
    ]);
    const [entry] = (await rpc.call(RPC.listAudit, { key: 'ci-writer', action: 'sessions.cancel' }, ops)).items;
    expect(entry.targetId).toBe(sessionId);
    expect((await rpc.call(RPC.listAudit, { tenant: 'team-a' }, ops)).items.map((e) => e.action)).toEqual(['sessions.cancel']);
  });

  it('pages the audit log and the keys, newest first', async () => {
    const first = await rpc.call(RPC.listAudit, { limit: 2 }, ops);
    const second = await rpc.call(RPC.listAudit, { limit: 2, cursor: first.nextCursor! }, ops);
    const ids = [...first.items, ...second.items].map((entry) => Number(entry.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(ids[0]).toBeGreaterThanOrEqual(10); // past 9: in number order, not text order
    const keys = await rpc.call(RPC.listApiKeys, { limit: 1 }, ops);
    const more = await rpc.call(RPC.listApiKeys, { limit: 1, cursor: keys.nextCursor! }, ops);
    expect(more.items[0].createdAt <= keys.items[0].createdAt).toBe(true);
    expect(more.items[0].id).not.toBe(keys.items[0].id);
  });
});
