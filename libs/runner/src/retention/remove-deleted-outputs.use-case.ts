import { Inject, Injectable } from '@nestjs/common';
import { HUB_LOGGER, HubLogger } from '@hub/config';
import { EventOf, orchestrationObjectsPrefix, sessionObjectsPrefix } from '@hub/contracts';
import { OutputStore } from '@hub/messaging';

/**
 * What a deleted session or orchestration left in the object store goes too: each session's logs,
 * output files, manifest and changes (everything under its id), and an orchestration's combined
 * result. The registry deleted the rows first and told of it (`session.deleted`,
 * `orchestration.deleted`; one runner takes each). Whatever is found is removed, so a redelivery, or
 * a session whose objects never were (it never ran), finds nothing and is done; a store that fails
 * throws, and the event comes again.
 */
@Injectable()
export class RemoveDeletedOutputs {
  constructor(
    private readonly outputs: OutputStore,
    @Inject(HUB_LOGGER) private readonly logger: HubLogger,
  ) {}

  onSessionDeleted(event: EventOf<'session.deleted'>): Promise<number> {
    const { sessionId, orchestrationId } = event.data;
    return this.remove([sessionObjectsPrefix(sessionId)], this.logger.child({ sessionId, orchestrationId }));
  }

  onOrchestrationDeleted(event: EventOf<'orchestration.deleted'>): Promise<number> {
    const { orchestrationId, sessionIds } = event.data;
    const prefixes = [orchestrationObjectsPrefix(orchestrationId), ...sessionIds.map(sessionObjectsPrefix)];
    return this.remove(prefixes, this.logger.child({ orchestrationId, sessions: sessionIds.length }));
  }

  /** Removes every object under `prefixes`; how many it removed. */
  private async remove(prefixes: string[], log: HubLogger): Promise<number> {
    const names = await this.outputs.namesUnder(prefixes);
    let removed = 0;
    for (const name of names) if (await this.outputs.remove(name)) removed++;
    log.info({ removed }, removed ? 'outputs of deleted sessions removed' : 'deleted sessions left no outputs (or they were removed already)');
    return removed;
  }
}
