import type { AuditedSubject, Caller, RpcRequest, RpcResponse } from '@hub/contracts';

/** One audit entry to write: who, what, on what. */
export interface NewAuditEntry {
  key: string;
  tenant: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  detail: Record<string, unknown> | null;
}

interface Target {
  targetType: string;
  targetId: string;
  detail?: Record<string, unknown>;
}

const session = (sessionId: string): Target => ({ targetType: 'session', targetId: sessionId });
const orchestration = (orchestrationId: string): Target => ({ targetType: 'orchestration', targetId: orchestrationId });

/**
 * What each audited write is done on, read from its request and its answer; the detail keeps a few
 * small fields, never a prompt, a context or a token. One entry per audited subject (the type says
 * so: a subject marked `audited` in the catalog without one here does not compile).
 */
const TARGETS: { [S in AuditedSubject]: (request: RpcRequest<S>, answer: RpcResponse<S>) => Target } = {
  'hub.registry.sessions.create': (request, answer) => ({
    ...session(answer.id),
    detail: { orchestrationId: answer.orchestrationId, image: answer.image, ...(request.start ? { start: true } : {}) },
  }),
  'hub.registry.sessions.start': (request) => session(request.sessionId),
  'hub.registry.sessions.cancel': (request) => session(request.sessionId),
  'hub.registry.sessions.rerun': (request) => session(request.sessionId),
  'hub.registry.sessions.continue': (request, answer) => ({ ...session(answer.id), detail: { continues: request.sessionId } }),
  'hub.registry.sessions.delete': (_request, answer) => ({
    ...session(answer.id),
    detail: { orchestrationId: answer.orchestrationId, ...(answer.orchestrationDeleted ? { orchestrationDeleted: true } : {}) },
  }),
  'hub.registry.orchestrations.create': (request, answer) => ({
    ...orchestration(answer.id),
    detail: { name: answer.name, sessions: answer.sessionCount, ...(request.start ? { start: true } : {}) },
  }),
  'hub.registry.orchestrations.start': (request) => orchestration(request.orchestrationId),
  'hub.registry.orchestrations.cancel': (request) => orchestration(request.orchestrationId),
  'hub.registry.orchestrations.retry': (request) => orchestration(request.orchestrationId),
  'hub.registry.orchestrations.delete': (_request, answer) => ({ ...orchestration(answer.id), detail: { name: answer.name, sessions: answer.sessionCount } }),
  'hub.registry.orchestrations.update': (request) => ({ ...orchestration(request.orchestrationId), detail: { budget: request.budget } }),
  'hub.registry.keys.create': (_request, answer) => ({
    targetType: 'api-key',
    targetId: answer.id,
    detail: { name: answer.name, scope: answer.scope, tenant: answer.tenant },
  }),
  'hub.registry.keys.revoke': (_request, answer) => ({ targetType: 'api-key', targetId: answer.id, detail: { name: answer.name } }),
};

/** The entry for a write that succeeded: `action` is its subject without `hub.registry.`. */
export function auditEntryOf<S extends AuditedSubject>(subject: S, caller: Caller, request: RpcRequest<S>, answer: RpcResponse<S>): NewAuditEntry {
  const target = (TARGETS[subject] as (request: RpcRequest<S>, answer: RpcResponse<S>) => Target)(request, answer);
  return {
    key: caller.key,
    tenant: caller.tenant,
    action: subject.replace(/^hub\.registry\./, ''),
    targetType: target.targetType,
    targetId: target.targetId,
    detail: target.detail ?? null,
  };
}
