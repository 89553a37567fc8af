import { Injectable } from '@nestjs/common';
import { ListOrchestrationsQuery, notFound, OrchestrationPage, OrchestrationSummary } from '@hub/contracts';
import { OrchestrationReads } from '../store/orchestration-reads';

@Injectable()
export class OrchestrationQueries {
  constructor(private readonly reads: OrchestrationReads) {}

  async get(orchestrationId: string): Promise<OrchestrationSummary> {
    const summary = await this.reads.summary(orchestrationId);
    if (!summary) throw notFound('orchestration', orchestrationId);
    return summary;
  }

  list(query: ListOrchestrationsQuery): Promise<OrchestrationPage> {
    return this.reads.list(query);
  }
}
