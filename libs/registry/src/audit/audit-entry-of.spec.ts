import { buildSessionView } from '@hub/testing';
import { auditEntryOf } from './audit-entry-of';

describe('an audit entry', () => {
  const caller = { key: 'ci', tenant: 'team-a', scope: 'write' } as const;

  it('names the caller, the action and the target of a write, with small details and never a prompt', () => {
    const session = buildSessionView({ image: 'hub/test-agent:latest' });
    const entry = auditEntryOf('hub.registry.sessions.create', caller, { prompt: 'a secret plan', type: 'analysis', start: true } as never, session);
    expect(entry).toEqual({
      key: 'ci',
      tenant: 'team-a',
      action: 'sessions.create',
      targetType: 'session',
      targetId: session.id,
      detail: { orchestrationId: session.orchestrationId, image: 'hub/test-agent:latest', start: true },
    });
    expect(JSON.stringify(entry)).not.toContain('a secret plan');
  });

  it('takes the target from the request when the write names it', () => {
    const orchestrationId = '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11';
    expect(auditEntryOf('hub.registry.orchestrations.cancel', caller, { orchestrationId }, {} as never)).toMatchObject({
      action: 'orchestrations.cancel',
      targetType: 'orchestration',
      targetId: orchestrationId,
      detail: null,
    });
  });

  it('of a deletion, names what went: the orchestration with its name and session count, or the session and whether its orchestration went too', () => {
    const orchestrationId = '0b9c8a0e-5d1c-4c53-9a51-1f0c1b7e4a11';
    const sessionId = '5f0c9b1e-2d3c-4a5b-8c6d-7e8f9a0b1c2d';
    expect(auditEntryOf('hub.registry.orchestrations.delete', caller, { orchestrationId }, { id: orchestrationId, name: 'nightly', sessionCount: 3 })).toMatchObject({
      action: 'orchestrations.delete',
      targetType: 'orchestration',
      targetId: orchestrationId,
      detail: { name: 'nightly', sessions: 3 },
    });
    expect(auditEntryOf('hub.registry.sessions.delete', caller, { sessionId }, { id: sessionId, orchestrationId, orchestrationDeleted: true })).toMatchObject({
      action: 'sessions.delete',
      targetType: 'session',
      targetId: sessionId,
      detail: { orchestrationId, orchestrationDeleted: true },
    });
  });

  it("of a key created, keeps its name, scope and tenant, never its token", () => {
    const created = {
      id: 'k1',
      name: 'reader',
      scope: 'read',
      tenant: 'team-b',
      token: 'hub_secret',
      createdAt: '',
      createdBy: 'bootstrap',
      revokedAt: null,
      lastUsedAt: null,
    } as const;
    const entry = auditEntryOf('hub.registry.keys.create', caller, { name: 'reader', scope: 'read' }, created);
    expect(entry).toMatchObject({ action: 'keys.create', targetType: 'api-key', targetId: 'k1', detail: { name: 'reader', scope: 'read', tenant: 'team-b' } });
    expect(JSON.stringify(entry)).not.toContain('hub_secret');
  });
});
