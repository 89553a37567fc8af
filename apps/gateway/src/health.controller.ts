import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { HubApi, ReadinessReport } from '@hub/hub-api';

/** Probes; no token needed. */
@Controller('health')
export class HealthController {
  constructor(private readonly hub: HubApi) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const report = await this.hub.readiness();
    res.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
