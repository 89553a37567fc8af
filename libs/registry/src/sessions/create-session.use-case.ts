import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { badRequest, CreateSessionRequest, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { toSessionView } from '../store/session-record';
import { checkEgressAllowed, checkImagesAllowed, defaultImageFor } from './session-template';
import { SessionStore, SessionTransaction } from '../store/session-store';
import { StartSession } from './start-session.use-case';

/**
 * Records a session of the caller's tenant (in the orchestration named, else in that of its
 * dependencies, else in one of its own) and, if asked, starts it. Another tenant's orchestration or
 * sessions are refused as ones that do not exist. `createdBy`: the name of the caller's API key,
 * recorded as the creator of an orchestration of its own.
 */
@Injectable()
export class CreateSession {
  constructor(
    private readonly store: SessionStore,
    private readonly startSession: StartSession,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async execute(request: CreateSessionRequest, tenant: string, createdBy: string | null = null): Promise<SessionView> {
    const image = request.image ?? defaultImageFor(this.settings, request.type);
    checkImagesAllowed(this.settings, [{ name: request.name ?? null, image }], tenant);
    const egress = request.egress ?? null;
    checkEgressAllowed(this.settings, [{ name: request.name ?? null, image, repository: request.repository ?? null, egress }]);
    const session = await this.store.transaction(async (tx) => {
      const dependsOn = [...new Set(request.dependsOn ?? [])];
      const orchestrationId = await this.orchestrationFor(tx, request, dependsOn, tenant, createdBy);
      const created = await tx.insertSession({
        id: randomUUID(),
        orchestrationId,
        tenant,
        name: request.name ?? null,
        type: request.type,
        prompt: request.prompt,
        context: request.context ?? null,
        image,
        egress,
        repository: request.repository ?? null,
        branch: request.branch ?? null,
        timeoutSeconds: request.timeoutSeconds ?? this.settings.defaultTimeoutSeconds,
        retries: request.retries ?? 0,
        continues: null,
        runnerLabels: request.runnerLabels ?? [],
        dependsOn,
      });
      await tx.appendEvents([
        newEvent('session.created', {
          sessionId: created.id,
          orchestrationId,
          type: created.type,
          image: created.image,
          dependsOn,
        }),
      ]);
      return request.start ? this.startSession.within(tx, created.id) : created;
    });
    return toSessionView(session);
  }

  /**
   * The orchestration the session belongs to. A session and its dependencies always share one, so:
   * the one named (which must hold every dependency); else the one its dependencies are in (naming
   * dependencies means joining them); else a new one of its own. Refused (400, naming them):
   * unknown dependencies, dependencies outside the named orchestration, dependencies spread over
   * several orchestrations.
   */
  private async orchestrationFor(
    tx: SessionTransaction,
    request: CreateSessionRequest,
    dependsOn: string[],
    tenant: string,
    createdBy: string | null,
  ): Promise<string> {
    if (request.orchestrationId && !(await tx.orchestrationExists(request.orchestrationId, tenant))) {
      throw notFound('orchestration', request.orchestrationId);
    }
    const orchestrationOf = dependsOn.length ? await tx.orchestrationsOf(dependsOn, tenant) : new Map<string, string>();
    const unknown = dependsOn.filter((id) => !orchestrationOf.has(id));
    if (unknown.length) {
      throw badRequest(`dependsOn names sessions that do not exist: ${unknown.join(', ')}`, { unknown });
    }
    if (request.orchestrationId) {
      const elsewhere = dependsOn.filter((id) => orchestrationOf.get(id) !== request.orchestrationId);
      if (elsewhere.length) {
        throw badRequest(
          `dependsOn names sessions of another orchestration than ${request.orchestrationId}: ${elsewhere.join(', ')}; ` +
            'a session runs in the orchestration of its dependencies (leave orchestrationId out to join theirs)',
          { elsewhere },
        );
      }
      return request.orchestrationId;
    }
    const joined = new Set(orchestrationOf.values());
    if (joined.size > 1) throw spreadOver(dependsOn, orchestrationOf);
    if (joined.size === 1) return [...joined][0];
    const id = randomUUID();
    await tx.insertOrchestration({ id, tenant, createdBy, name: request.name ?? `${request.type} session`, maxParallel: null, publishBranch: null });
    return id;
  }
}

/** Dependencies in several orchestrations: no orchestration can hold the session and all of them. */
function spreadOver(dependsOn: string[], orchestrationOf: Map<string, string>) {
  const groups = new Map<string, string[]>();
  for (const sessionId of dependsOn) {
    const orchestrationId = orchestrationOf.get(sessionId)!;
    groups.set(orchestrationId, [...(groups.get(orchestrationId) ?? []), sessionId]);
  }
  const listed = [...groups].map(([orchestrationId, ids]) => `${ids.join(', ')} (orchestration ${orchestrationId})`).join('; ');
  return badRequest(
    `dependsOn names sessions of ${groups.size} different orchestrations: ${listed}; a session runs in the one orchestration of ` +
      'its dependencies, so they must all belong to one (create them as a chain from one first session, or together with POST /api/v1/orchestrations)',
    { orchestrations: Object.fromEntries(groups) },
  );
}
