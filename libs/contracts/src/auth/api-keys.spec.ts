import { HTTP_ROUTES } from '../http/http-routes';
import { routeScope } from '../http/http-route';
import { isAudited, requiresCaller, RPC_CATALOG, type RpcSubject, scopeNeededFor } from '../rpc/rpc-catalog';
import { API_KEY_TOKEN_PATTERN, CreateApiKeyRequestSchema, forbidden } from './api-keys.schemas';

const subjects = Object.keys(RPC_CATALOG) as RpcSubject[];

describe('scopes in the catalogs', () => {
  it('are asked of callers only: a subject with a scope carries its caller', () => {
    for (const subject of subjects) {
      if (scopeNeededFor(subject) !== 'read') expect({ subject, requiresCaller: requiresCaller(subject) }).toEqual({ subject, requiresCaller: true });
    }
  });

  it('make every audited subject a write (write or admin), and every write the gateway calls audited', () => {
    for (const subject of subjects.filter(isAudited)) expect({ subject, scope: scopeNeededFor(subject) }).not.toEqual({ subject, scope: 'read' });
    const writes = subjects.filter((subject) => requiresCaller(subject) && scopeNeededFor(subject) === 'write');
    expect(writes.filter((subject) => !isAudited(subject))).toEqual([]);
    expect(subjects.filter(isAudited)).toEqual(expect.arrayContaining(['hub.registry.sessions.create', 'hub.registry.orchestrations.cancel', 'hub.registry.keys.revoke']));
  });

  it('give the keys and audit routes admin, reads read and writes write', () => {
    expect([HTTP_ROUTES.createApiKey, HTTP_ROUTES.listApiKeys, HTTP_ROUTES.revokeApiKey, HTTP_ROUTES.listAudit, HTTP_ROUTES.listNotificationDeliveries].map(routeScope)).toEqual(
      Array(5).fill('admin'),
    );
    expect([HTTP_ROUTES.getSession, HTTP_ROUTES.createSession, HTTP_ROUTES.updateOrchestration, HTTP_ROUTES.liveness].map(routeScope)).toEqual(['read', 'write', 'write', null]);
    expect(scopeNeededFor('hub.registry.keys.verify')).toBe('read');
    expect(requiresCaller('hub.registry.keys.verify')).toBe(false);
  });
});

describe('API keys', () => {
  it('are named as callers are, never as the callers the gateway makes up', () => {
    expect(CreateApiKeyRequestSchema.safeParse({ name: 'ci@team-a', scope: 'read' }).success).toBe(true);
    expect(CreateApiKeyRequestSchema.safeParse({ name: 'bootstrap', scope: 'admin' }).error?.issues[0]?.message).toMatch(/must not be bootstrap or claude-hub/);
    expect(CreateApiKeyRequestSchema.safeParse({ name: 'x', scope: 'root' }).success).toBe(false);
    expect(CreateApiKeyRequestSchema.safeParse({ name: 'x', scope: 'read', tenant: 'Team A' }).success).toBe(false);
  });

  it('have tokens of one form', () => {
    expect(API_KEY_TOKEN_PATTERN.test(`hub_${'0a'.repeat(16)}_${'A-_z'.repeat(10)}abc`)).toBe(true);
    expect(API_KEY_TOKEN_PATTERN.test(`hub_${'0A'.repeat(16)}_${'a'.repeat(43)}`)).toBe(false);
  });

  it('are refused, when their scope is too small, with one sentence naming both scopes', () => {
    expect(forbidden('read', 'write', 'POST /api/v1/sessions').toRpcError()).toEqual({
      code: 'forbidden',
      message: 'this key (read) may not POST /api/v1/sessions: it needs the write scope',
    });
  });
});
