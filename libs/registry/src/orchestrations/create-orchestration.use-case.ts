import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CreateOrchestrationRequest, OrchestrationSummary } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { StartSession } from '../sessions/start-session.use-case';
import { OrchestrationReads } from '../store/orchestration-reads';
import { NewSession, SessionStore } from '../store/session-store';
import { checkOrchestrationPlan } from './orchestration-plan';
import { checkEgressAllowed, checkImagesAllowed, defaultImageFor } from '../sessions/session-template';

/**
 * Records an orchestration of the caller's tenant and all its sessions in one transaction (bulk statements, so 10,000
 * sessions take as many statements as one), and starts them if asked. A bad plan stores nothing.
 * `createdBy`: the name of the caller's API key, recorded as its creator (what its usage is summed under).
 */
@Injectable()
export class CreateOrchestration {
  constructor(
    private readonly store: SessionStore,
    private readonly reads: OrchestrationReads,
    private readonly startSession: StartSession,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async execute(request: CreateOrchestrationRequest, tenant: string, createdBy: string | null = null): Promise<OrchestrationSummary> {
    checkOrchestrationPlan(request.sessions);
    const orchestrationId = randomUUID();
    const idOf = new Map(request.sessions.map((s) => [s.name, randomUUID()]));
    const sessions: NewSession[] = request.sessions.map((s) => ({
      id: idOf.get(s.name)!,
      orchestrationId,
      tenant,
      name: s.name,
      type: s.type,
      prompt: s.prompt,
      context: s.context ?? null,
      image: s.image ?? defaultImageFor(this.settings, s.type),
      egress: s.egress ?? null,
      repository: s.repository ?? null,
      branch: s.branch ?? null,
      timeoutSeconds: s.timeoutSeconds ?? this.settings.defaultTimeoutSeconds,
      retries: s.retries ?? 0,
      continues: null,
      runnerLabels: s.runnerLabels ?? [],
      dependsOn: s.dependsOn.map((name) => idOf.get(name)!),
    }));
    checkImagesAllowed(this.settings, sessions, tenant);
    checkEgressAllowed(this.settings, sessions);

    return this.store.transaction(async (tx) => {
      await tx.insertOrchestration({
        id: orchestrationId,
        tenant,
        createdBy,
        name: request.name,
        maxParallel: request.maxParallel ?? null,
        publishBranch: request.publish?.branch ?? null,
        budget: request.budget ?? null,
      });
      await tx.insertSessions(sessions);
      await tx.appendEvents(
        sessions.map((s) =>
          newEvent('session.created', { sessionId: s.id, orchestrationId, type: s.type, image: s.image, dependsOn: s.dependsOn }),
        ),
      );
      if (request.start) await this.startSession.startMany(tx, { orchestrationId }, 'orchestration started');
      return (await this.reads.summary(orchestrationId, tx))!;
    });
  }
}
