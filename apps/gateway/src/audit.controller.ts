import { Controller, Get, Query } from '@nestjs/common';
import { AuditPage, ListAuditQuery, ListAuditQuerySchema } from '@hub/contracts';
import { API_PREFIX, ZodValidationPipe } from '@hub/gateway-http';
import { HubApi } from '@hub/hub-api';

/** The audit log of writes: who (key name) did what on what; admin keys only (the guard checks the scope). */
@Controller(`${API_PREFIX}/audit`)
export class AuditController {
  constructor(private readonly hub: HubApi) {}

  @Get()
  list(@Query(new ZodValidationPipe(ListAuditQuerySchema)) query: ListAuditQuery): Promise<AuditPage> {
    return this.hub.listAudit(query);
  }
}
