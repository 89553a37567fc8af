import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { badRequest, CreateSessionRequest, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { OutboxRelay } from '../outbox/outbox-relay';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { toSessionView } from '../store/session-record';
import { defaultImageFor } from './session-template';
import { SessionStore, SessionTransaction } from '../store/session-store';
import { StartSession } from './start-session.use-case';

/** Records a session (in its own orchestration unless one is given) and, if asked, starts it. */
@Injectable()
export class CreateSession {
  constructor(
    private readonly store: SessionStore,
    private readonly startSession: StartSession,
    private readonly relay: OutboxRelay,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  async execute(request: CreateSessionRequest): Promise<SessionView> {
    const session = await this.store.transaction(async (tx) => {
      const orchestrationId = await this.orchestrationFor(tx, request);
      const dependsOn = [...new Set(request.dependsOn ?? [])];
      await this.checkDependencies(tx, dependsOn, orchestrationId);
      const created = await tx.insertSession({
        id: randomUUID(),
        orchestrationId,
        name: request.name ?? null,
        type: request.type,
        prompt: request.prompt,
        image: request.image ?? defaultImageFor(this.settings, request.type),
        repository: request.repository ?? null,
        branch: request.branch ?? null,
        timeoutSeconds: request.timeoutSeconds ?? this.settings.defaultTimeoutSeconds,
        retries: request.retries ?? 0,
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
    this.relay.kick();
    return toSessionView(session);
  }

  private async orchestrationFor(tx: SessionTransaction, request: CreateSessionRequest): Promise<string> {
    if (request.orchestrationId) {
      if (!(await tx.orchestrationExists(request.orchestrationId))) {
        throw notFound('orchestration', request.orchestrationId);
      }
      return request.orchestrationId;
    }
    const id = randomUUID();
    await tx.insertOrchestration({ id, name: request.name ?? `${request.type} session`, maxParallel: null });
    return id;
  }

  private async checkDependencies(tx: SessionTransaction, dependsOn: string[], orchestrationId: string) {
    if (!dependsOn.length) return;
    const found = await tx.orchestrationsOf(dependsOn);
    const unknown = dependsOn.filter((id) => !found.has(id));
    if (unknown.length) {
      throw badRequest(`dependsOn names sessions that do not exist: ${unknown.join(', ')}`, { unknown });
    }
    const elsewhere = dependsOn.filter((id) => found.get(id) !== orchestrationId);
    if (elsewhere.length) {
      throw badRequest(
        `dependsOn names sessions of another orchestration: ${elsewhere.join(', ')}; pass their orchestrationId`,
        { elsewhere },
      );
    }
  }
}
