import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Readiness, ReadinessReport } from '@hub/gateway-http';

/** Probes; no token needed. */
@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const report = await this.readiness.report();
    res.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
