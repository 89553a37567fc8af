import { Controller, Get, Query } from '@nestjs/common';
import { UsageSummary, UsageSummaryQuery, UsageSummaryQuerySchema } from '@hub/contracts';
import { API_PREFIX, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** What the caller's tenant spent, in total and per API key that created its orchestrations. */
@Controller(`${API_PREFIX}/usage`)
export class UsageController {
  constructor(private readonly hub: HubApi) {}

  @Get()
  summary(@Query(new ZodValidationPipe(UsageSummaryQuerySchema)) query: UsageSummaryQuery): Promise<UsageSummary> {
    return this.hub.usageSummary(query);
  }
}
