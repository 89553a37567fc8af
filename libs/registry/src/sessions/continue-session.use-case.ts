import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { conflict, ContinueSessionCommand, notFound, SessionView } from '@hub/contracts';
import { newEvent } from '../outbox/new-event';
import { SessionRecord, toSessionView } from '../store/session-record';
import { SessionStore, SessionTransaction } from '../store/session-store';
import { REGISTRY_SETTINGS, RegistrySettings } from '../registry.tokens';
import { checkImagesAllowed } from './session-template';
import { StartSession } from './start-session.use-case';

const MAX_NAME_LENGTH = 128;

/**
 * A follow-up to a completed session: a new session of its orchestration that depends on it, so it
 * starts from its captured code changes with its output (where the agent kept its conversation) at
 * /hub/inputs/<name>/, and resumes that conversation with the new prompt (the runner tells the agent
 * which input: HUB_CONTINUE_FROM). Same type, image, repository, egress, retries and runner labels as the first.
 */
@Injectable()
export class ContinueSession {
  constructor(
    private readonly store: SessionStore,
    private readonly startSession: StartSession,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  /** Continues the tenant's session (another tenant's is one that does not exist), in an image the tenant may still run. */
  async execute(command: ContinueSessionCommand, tenant: string): Promise<SessionView> {
    const session = await this.store.transaction(async (tx) => {
      const source = await tx.getSession(command.sessionId, tenant);
      if (!source) throw notFound('session', command.sessionId);
      checkImagesAllowed(this.settings, [{ name: source.name, image: source.image }], tenant);
      if (source.status !== 'completed') {
        throw conflict(
          `cannot continue session ${source.id}: it is ${source.status}; only a completed session's conversation and changes can be continued (re-run it instead)`,
          { status: source.status },
        );
      }
      const created = await tx.insertSession({
        id: randomUUID(),
        orchestrationId: source.orchestrationId,
        tenant: source.tenant,
        name: await this.nameFor(tx, source),
        type: source.type,
        prompt: command.prompt,
        context: command.context ?? null,
        image: source.image,
        egress: source.egress,
        repository: source.repository,
        branch: null,
        timeoutSeconds: command.timeoutSeconds ?? source.timeoutSeconds,
        retries: source.retries,
        continues: source.id,
        runnerLabels: source.runnerLabels,
        dependsOn: [source.id],
      });
      await tx.appendEvents([
        newEvent('session.created', {
          sessionId: created.id,
          orchestrationId: created.orchestrationId,
          type: created.type,
          image: created.image,
          dependsOn: created.dependsOn,
        }),
      ]);
      return command.start ? this.startSession.within(tx, created.id) : created;
    });
    return toSessionView(session);
  }

  /** `<name>-continued-<n>` (the first free n): unique in the orchestration, and its input directory name for whoever follows. */
  private async nameFor(tx: SessionTransaction, source: SessionRecord): Promise<string> {
    const base = source.name ?? source.id.slice(0, 8);
    for (let n = source.continuedBy.length + 1; ; n++) {
      const suffix = `-continued-${n}`;
      const name = `${base.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
      if (!(await tx.nameTaken(source.orchestrationId, name))) return name;
    }
  }
}
